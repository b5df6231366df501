//! The list query: `pageSize`, `pageToken` and `completed` (proto names `page_size`, `page_token` also accepted).
//! Other parameters are ignored; a malformed value is a 400 `VALIDATION_ERROR`. Page size limits are task-svc's.

use warden_proto::Reason;
use warden_proto::task::v1 as pb;

use crate::error::ApiError;
use crate::extract::query_param;

/// The first value of the parameter under either of its names.
fn param(query: Option<&str>, json_name: &str, proto_name: &str) -> Option<String> {
    query_param(query, json_name).or_else(|| query_param(query, proto_name))
}

/// The `ListTasks` request a query string asks for.
pub fn list_request(query: Option<&str>) -> Result<pb::ListTasksRequest, ApiError> {
    let mut issues = Vec::new();
    let page_size = match param(query, "pageSize", "page_size") {
        None => 0,
        Some(raw) => raw.trim().parse::<i32>().unwrap_or_else(|_| {
            issues.push(format!(
                "[query.pageSize] Invalid input: expected an integer, received {raw:?}"
            ));
            0
        }),
    };
    let completed = match param(query, "completed", "completed").as_deref() {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(raw) => {
            issues.push(format!(
                "[query.completed] Invalid input: expected \"true\" or \"false\", received {raw:?}"
            ));
            None
        }
    };
    if !issues.is_empty() {
        return Err(ApiError::bad_request(
            Reason::ValidationError,
            issues.join("; "),
        ));
    }
    Ok(pb::ListTasksRequest {
        page_size,
        page_token: param(query, "pageToken", "page_token").unwrap_or_default(),
        completed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(error: ApiError) -> String {
        match error {
            ApiError::Local {
                reason, message, ..
            } => {
                assert_eq!(reason.as_str(), "VALIDATION_ERROR");
                message
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn no_query_asks_for_the_first_page_of_everything() {
        assert_eq!(list_request(None).unwrap(), pb::ListTasksRequest::default());
        assert_eq!(
            list_request(Some("")).unwrap(),
            pb::ListTasksRequest::default()
        );
    }

    #[test]
    fn every_parameter_is_read_and_decoded() {
        let request = list_request(Some("pageSize=10&pageToken=abc%3D%3D&completed=true")).unwrap();
        assert_eq!(
            request,
            pb::ListTasksRequest {
                page_size: 10,
                page_token: "abc==".into(),
                completed: Some(true),
            }
        );
        assert_eq!(
            list_request(Some("completed=false")).unwrap().completed,
            Some(false)
        );
    }

    #[test]
    fn proto_names_are_accepted_too() {
        let request = list_request(Some("page_size=5&page_token=t")).unwrap();
        assert_eq!((request.page_size, request.page_token.as_str()), (5, "t"));
    }

    #[test]
    fn unknown_parameters_are_ignored() {
        assert_eq!(
            list_request(Some("userId=u2&sort=asc")).unwrap(),
            pb::ListTasksRequest::default()
        );
    }

    #[test]
    fn a_negative_page_size_is_left_to_the_task_service() {
        assert_eq!(list_request(Some("pageSize=-1")).unwrap().page_size, -1);
    }

    #[test]
    fn completed_must_be_true_or_false() {
        for raw in ["yes", "1", "TRUE", ""] {
            let error = list_request(Some(&format!("completed={raw}"))).unwrap_err();
            assert_eq!(
                message(error),
                format!(
                    "[query.completed] Invalid input: expected \"true\" or \"false\", received {raw:?}"
                )
            );
        }
    }

    #[test]
    fn a_page_size_must_be_an_integer() {
        for raw in ["ten", "1.5", "99999999999", ""] {
            let error = list_request(Some(&format!("pageSize={raw}"))).unwrap_err();
            assert_eq!(
                message(error),
                format!("[query.pageSize] Invalid input: expected an integer, received {raw:?}")
            );
        }
    }

    #[test]
    fn every_malformed_parameter_is_reported() {
        let error = list_request(Some("pageSize=x&completed=y")).unwrap_err();
        assert_eq!(
            message(error),
            "[query.pageSize] Invalid input: expected an integer, received \"x\"; \
             [query.completed] Invalid input: expected \"true\" or \"false\", received \"y\""
        );
    }
}

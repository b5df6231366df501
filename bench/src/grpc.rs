//! The gRPC scenarios, straight to auth-svc and task-svc: a user signed up over gRPC, its session token for
//! AuthService and a JWT from `IssueToken` for TaskService, as a direct client would hold them.

use std::time::Duration;

use anyhow::{Context, bail};
use tonic::metadata::AsciiMetadataValue;
use tonic::transport::{Channel, Endpoint};
use warden_proto::auth::v1::{
    CreateApiKeyRequest, GetSessionRequest, IssueTokenRequest, SignUpEmailRequest,
    api_key_service_client::ApiKeyServiceClient, auth_service_client::AuthServiceClient,
};
use warden_proto::task::v1::{
    CreateTaskRequest, ListTasksRequest, Task, task_service_client::TaskServiceClient,
};

use crate::cli::Scenario;
use crate::echo::{EchoRequest, echo_client::EchoClient};
use crate::load::Caller;
use crate::rest::PASSWORD;

/// The payload the echo ceiling sends back and forth, about as long as a small unary request.
pub const ECHO_PAYLOAD: &str = "the quick brown fox jumps over the lazy dog";

/// `n` channels to `endpoint`, each its own HTTP/2 connection, connected before the run starts.
pub async fn channels(endpoint: &str, n: usize) -> anyhow::Result<Vec<Channel>> {
    let endpoint = Endpoint::from_shared(endpoint.to_owned())
        .with_context(|| format!("gRPC endpoint {endpoint}"))?
        .tcp_nodelay(true)
        .connect_timeout(Duration::from_secs(5));
    let mut channels = Vec::with_capacity(n);
    for _ in 0..n {
        let channel = endpoint
            .connect()
            .await
            .with_context(|| format!("connecting to {}", endpoint.uri()))?;
        channels.push(channel);
    }
    Ok(channels)
}

/// One connection's caller of a gRPC scenario.
pub enum GrpcCaller {
    GetSession {
        client: AuthServiceClient<Channel>,
        bearer: AsciiMetadataValue,
    },
    ListTasks {
        client: TaskServiceClient<Channel>,
        bearer: AsciiMetadataValue,
    },
    ListTasksWithKey {
        client: TaskServiceClient<Channel>,
        key: AsciiMetadataValue,
    },
    CreateTask {
        client: TaskServiceClient<Channel>,
        bearer: AsciiMetadataValue,
    },
    Echo {
        client: EchoClient<Channel>,
    },
}

impl Caller for GrpcCaller {
    async fn call(&mut self, _seq: u64) -> Result<(), String> {
        let outcome = match self {
            GrpcCaller::GetSession { client, bearer } => client
                .get_session(authorized(GetSessionRequest::default(), bearer))
                .await
                .map(drop),
            GrpcCaller::ListTasks { client, bearer } => {
                let request = ListTasksRequest {
                    page_size: 20,
                    ..Default::default()
                };
                client
                    .list_tasks(authorized(request, bearer))
                    .await
                    .map(drop)
            }
            GrpcCaller::ListTasksWithKey { client, key } => {
                let mut request = tonic::Request::new(ListTasksRequest {
                    page_size: 20,
                    ..Default::default()
                });
                request.metadata_mut().insert("x-api-key", key.clone());
                client.list_tasks(request).await.map(drop)
            }
            GrpcCaller::CreateTask { client, bearer } => client
                .create_task(authorized(new_task("bench task"), bearer))
                .await
                .map(drop),
            GrpcCaller::Echo { client } => client
                .echo(EchoRequest {
                    payload: ECHO_PAYLOAD.to_owned(),
                })
                .await
                .map(drop),
        };
        outcome.map_err(|status| format!("gRPC {:?}", status.code()))
    }
}

fn authorized<T>(message: T, bearer: &AsciiMetadataValue) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", bearer.clone());
    request
}

fn new_task(title: &str) -> CreateTaskRequest {
    CreateTaskRequest {
        task: Some(Task {
            title: title.to_owned(),
            description: "created by the load tool".to_owned(),
            ..Default::default()
        }),
    }
}

fn bearer(token: &str) -> anyhow::Result<AsciiMetadataValue> {
    format!("Bearer {token}")
        .parse()
        .context("the token is not valid metadata")
}

/// Signs up a user over gRPC, seeds what `scenario` needs and returns one caller per connection.
pub async fn callers(
    scenario: Scenario,
    auth_endpoint: &str,
    task_endpoint: &str,
    connections: usize,
    run_id: &str,
) -> anyhow::Result<Vec<GrpcCaller>> {
    let setup = channels(auth_endpoint, 1).await?.remove(0);
    let mut auth = AuthServiceClient::new(setup);
    let signed_up = auth
        .sign_up_email(SignUpEmailRequest {
            name: "Bench User".into(),
            email: format!("bench-{run_id}-{}@bench.example.com", scenario.name()),
            password: PASSWORD.into(),
            ..Default::default()
        })
        .await
        .map_err(|status| setup_error("SignUpEmail", &status))?
        .into_inner();
    let session = bearer(
        signed_up
            .token
            .as_deref()
            .context("SignUpEmail opened no session (is email verification required?)")?,
    )?;
    if scenario == Scenario::GrpcGetSession {
        let channels = channels(auth_endpoint, connections).await?;
        return Ok(channels
            .into_iter()
            .map(|channel| GrpcCaller::GetSession {
                client: AuthServiceClient::new(channel),
                bearer: session.clone(),
            })
            .collect());
    }

    let jwt = auth
        .issue_token(authorized(IssueTokenRequest {}, &session))
        .await
        .map_err(|status| setup_error("IssueToken", &status))?
        .into_inner()
        .token;
    let jwt = bearer(&jwt)?;
    let channels = channels(task_endpoint, connections).await?;
    match scenario {
        Scenario::GrpcListTasks | Scenario::GrpcListTasksApiKey => {
            let mut tasks = TaskServiceClient::new(channels[0].clone());
            for n in 1..=20 {
                tasks
                    .create_task(authorized(new_task(&format!("seeded task {n}")), &jwt))
                    .await
                    .map_err(|status| setup_error("CreateTask", &status))?;
            }
            let listed = tasks
                .list_tasks(authorized(
                    ListTasksRequest {
                        page_size: 20,
                        ..Default::default()
                    },
                    &jwt,
                ))
                .await
                .map_err(|status| setup_error("ListTasks", &status))?
                .into_inner();
            if listed.tasks.len() != 20 {
                bail!(
                    "ListTasks returned {} of the 20 seeded tasks",
                    listed.tasks.len()
                );
            }
            if scenario == Scenario::GrpcListTasksApiKey {
                let key = api_key(auth_endpoint, &session).await?;
                return Ok(channels
                    .into_iter()
                    .map(|channel| GrpcCaller::ListTasksWithKey {
                        client: TaskServiceClient::new(channel),
                        key: key.clone(),
                    })
                    .collect());
            }
            Ok(channels
                .into_iter()
                .map(|channel| GrpcCaller::ListTasks {
                    client: TaskServiceClient::new(channel),
                    bearer: jwt.clone(),
                })
                .collect())
        }
        Scenario::GrpcCreateTask => Ok(channels
            .into_iter()
            .map(|channel| GrpcCaller::CreateTask {
                client: TaskServiceClient::new(channel),
                bearer: jwt.clone(),
            })
            .collect()),
        other => bail!("{} is not a gRPC scenario", other.name()),
    }
}

/// An API key of the signed-up user, made with its session (the deployment's default limits apply: the target must
/// run with a rate limit no load can reach, `API_KEY_RATE_LIMIT_MAX=2000000000`, counted on every call, or with
/// `API_KEY_RATE_LIMIT=false`, counting nothing).
async fn api_key(
    auth_endpoint: &str,
    session: &AsciiMetadataValue,
) -> anyhow::Result<AsciiMetadataValue> {
    let channel = channels(auth_endpoint, 1).await?.remove(0);
    let created = ApiKeyServiceClient::new(channel)
        .create_api_key(authorized(
            CreateApiKeyRequest {
                name: Some("bench".into()),
                ..Default::default()
            },
            session,
        ))
        .await
        .map_err(|status| setup_error("CreateApiKey", &status))?
        .into_inner();
    if created
        .api_key
        .and_then(|key| key.rate_limit_max)
        .unwrap_or(0)
        < 1_000_000
    {
        eprintln!(
            "[bench] the key's own rate limit is low: unless the target runs with API_KEY_RATE_LIMIT=false, start it \
             with API_KEY_RATE_LIMIT_MAX=2000000000"
        );
    }
    created.key.parse().context("the key is not valid metadata")
}

fn setup_error(rpc: &str, status: &tonic::Status) -> anyhow::Error {
    if status.code() == tonic::Code::ResourceExhausted {
        anyhow::anyhow!("{rpc} was rate limited: run the target with RATE_LIMIT_ENABLED=false")
    } else {
        anyhow::anyhow!("{rpc} failed: {:?} {}", status.code(), status.message())
    }
}

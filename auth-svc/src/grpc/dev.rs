//! `warden.auth.v1.DevService`: the development outbox over gRPC. Served only while no SMTP server is configured,
//! and only to callers in `TRUSTED_PROXIES` (the gateway, loopback by default), since the mails hold live links.

use std::sync::Arc;

use ipnet::IpNet;
use tonic::{Request, Response, Status};
use warden_proto::auth::v1 as pb;

use warden_proto::time::timestamp;

use crate::mail::Outbox;

pub use pb::dev_service_server::DevServiceServer;

#[derive(Clone)]
pub struct GrpcDev {
    outbox: Outbox,
    trusted_proxies: Arc<[IpNet]>,
}

impl GrpcDev {
    pub fn new(outbox: Outbox, trusted_proxies: Vec<IpNet>) -> Self {
        Self {
            outbox,
            trusted_proxies: trusted_proxies.into(),
        }
    }
}

#[tonic::async_trait]
impl pb::dev_service_server::DevService for GrpcDev {
    async fn list_outbox(
        &self,
        request: Request<pb::ListOutboxRequest>,
    ) -> Result<Response<pb::ListOutboxResponse>, Status> {
        let trusted = request.remote_addr().is_some_and(|peer| {
            self.trusted_proxies
                .iter()
                .any(|net| net.contains(&peer.ip()))
        });
        if !trusted {
            return Err(Status::permission_denied(
                "the outbox is readable from trusted proxies only",
            ));
        }
        let mails = self
            .outbox
            .list()
            .into_iter()
            .map(|mail| pb::OutboxMail {
                to: mail.to,
                subject: mail.subject,
                text: mail.text,
                sent_at: Some(timestamp(mail.sent_at)),
            })
            .collect();
        Ok(Response::new(pb::ListOutboxResponse { mails }))
    }
}

//! Warden's gRPC contracts, compiled from `proto/` at build time.
//!
//! Each package is a module named after it (`auth::v1`); [`FILE_DESCRIPTOR_SET`] feeds server reflection and keeps the
//! `google.api.http` options, so grpcurl's `describe` shows each RPC's REST mapping. Beside the generated code sit the
//! two things both ends of every call must agree on: [`Reason`], the error codes carried in `ErrorInfo.reason`, and
//! [`time`], the one conversion of `google.protobuf.Timestamp`.

pub mod reason;
pub mod time;

pub use reason::Reason;

pub mod google {
    pub mod api {
        tonic::include_proto!("google.api");
    }
}

pub mod auth {
    pub mod v1 {
        tonic::include_proto!("warden.auth.v1");
    }
}

pub mod task {
    pub mod v1 {
        tonic::include_proto!("warden.task.v1");
    }
}

/// The encoded `FileDescriptorSet` of every Warden proto and its imports.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("warden_descriptor");

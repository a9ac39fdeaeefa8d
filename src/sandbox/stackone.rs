//! Stand-in of the StackOne API and dashboard.
//! (Being written; see the sandbox issue.)

use std::sync::Arc;

use super::server::{HttpServer, Request, RequestLog, Response, Service};

#[derive(Debug, Clone, Default)]
pub struct StackOneOptions {}

pub struct StackOneStandIn {
    server: HttpServer,
}

struct Placeholder;
impl Service for Placeholder {
    fn handle(&self, _req: &Request) -> Response {
        Response::text(501, "not implemented")
    }
}

impl StackOneStandIn {
    pub fn start(rt: &tokio::runtime::Handle, _options: StackOneOptions) -> std::io::Result<Self> {
        Ok(StackOneStandIn {
            server: HttpServer::start(rt, "stackone", Arc::new(Placeholder))?,
        })
    }
    pub fn api_url(&self) -> url::Url {
        self.server.url("/")
    }
    pub fn dashboard_url(&self) -> url::Url {
        self.server.url("/dashboard/connector-profiles")
    }
    pub fn log(&self) -> &Arc<RequestLog> {
        self.server.log()
    }
}

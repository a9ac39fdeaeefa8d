//! Stand-in of the Constant Contact authorization server, API and portal.
//! (Being written; see the sandbox issue.)

use std::sync::Arc;

use super::server::{HttpServer, Request, RequestLog, Response, Service};

#[derive(Debug, Clone, Default)]
pub struct CcOptions {}

pub struct CcStandIn {
    server: HttpServer,
}

struct Placeholder;
impl Service for Placeholder {
    fn handle(&self, _req: &Request) -> Response {
        Response::text(501, "not implemented")
    }
}

impl CcStandIn {
    pub fn start(rt: &tokio::runtime::Handle, _options: CcOptions) -> std::io::Result<Self> {
        Ok(CcStandIn {
            server: HttpServer::start(rt, "constant_contact", Arc::new(Placeholder))?,
        })
    }
    pub fn authorize_url(&self) -> url::Url {
        self.server.url("/oauth2/default/v1/authorize")
    }
    pub fn token_url(&self) -> url::Url {
        self.server.url("/oauth2/default/v1/token")
    }
    pub fn api_url(&self) -> url::Url {
        self.server.url("/v3")
    }
    pub fn portal_url(&self) -> url::Url {
        self.server.url("/portal/")
    }
    pub fn log(&self) -> &Arc<RequestLog> {
        self.server.log()
    }
}

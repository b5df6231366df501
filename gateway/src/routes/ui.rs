//! The web UI and the API docs: static files compiled into the binary, so serving them needs nothing on disk and no
//! build step.
//!
//! Both pages are clients like any other: they call the REST routes with the session cookie, the docs page reading
//! `/api/openapi.json` for what to list and sending its "Try it" requests to its own origin only. Their responses
//! carry a strict Content-Security-Policy (no inline script or style, same-origin fetches only, no framing),
//! `nosniff` and no referrer; `no-cache` makes a browser revalidate, so a new binary's UI is picked up at once.

use axum::response::{IntoResponse, Response};
use http::header;

pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// A file of the UI and its media type.
struct Asset {
    body: &'static str,
    content_type: &'static str,
}

const INDEX_HTML: Asset = Asset {
    body: include_str!("../../ui/index.html"),
    content_type: "text/html; charset=utf-8",
};

const APP_JS: Asset = Asset {
    body: include_str!("../../ui/app.js"),
    content_type: "text/javascript; charset=utf-8",
};

const APP_CSS: Asset = Asset {
    body: include_str!("../../ui/app.css"),
    content_type: "text/css; charset=utf-8",
};

/// The QR encoder the account page draws the two-factor setup with: qrcode-generator, vendored (MIT) so the
/// setup key never leaves the page.
const QRCODE_JS: Asset = Asset {
    body: include_str!("../../ui/qrcode.mjs"),
    content_type: "text/javascript; charset=utf-8",
};

const DOCS_HTML: Asset = Asset {
    body: include_str!("../../ui/docs.html"),
    content_type: "text/html; charset=utf-8",
};

const DOCS_JS: Asset = Asset {
    body: include_str!("../../ui/docs.js"),
    content_type: "text/javascript; charset=utf-8",
};

const DOCS_CSS: Asset = Asset {
    body: include_str!("../../ui/docs.css"),
    content_type: "text/css; charset=utf-8",
};

impl IntoResponse for Asset {
    fn into_response(self) -> Response {
        (
            [
                (header::CONTENT_TYPE, self.content_type),
                (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
                (header::REFERRER_POLICY, "no-referrer"),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            self.body,
        )
            .into_response()
    }
}

/// `GET /`: the page.
pub async fn index() -> Response {
    INDEX_HTML.into_response()
}

/// `GET /app.js`: the page's one script, an ES module.
pub async fn script() -> Response {
    APP_JS.into_response()
}

/// `GET /app.css`: the page's one stylesheet.
pub async fn stylesheet() -> Response {
    APP_CSS.into_response()
}

/// `GET /qrcode.mjs`: the QR encoder, an ES module the page imports when it is needed.
pub async fn qrcode_script() -> Response {
    QRCODE_JS.into_response()
}

/// `GET /docs`: the API docs page.
pub async fn docs() -> Response {
    DOCS_HTML.into_response()
}

/// `GET /docs.js`: the docs page's script, an ES module.
pub async fn docs_script() -> Response {
    DOCS_JS.into_response()
}

/// `GET /docs.css`: the docs page's own styles, over the web UI's `/app.css`.
pub async fn docs_stylesheet() -> Response {
    DOCS_CSS.into_response()
}

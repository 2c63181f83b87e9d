//! Open311 GeoReport v2 at `/open311/v2/`: discovery, services, service
//! definitions, creating and querying service requests, in JSON and XML,
//! with the specification's field names, `open`/`closed` statuses, W3C
//! (ISO 8601) date-times and its error format: a list of `{code, description}`.
//!
//! `jurisdiction_id` names a compound (by its code) or a community (by its
//! code or id). Posting needs `api_key`: an API token of a user who may raise
//! cases there. Reading is public; descriptions appear only with the
//! reporter's consent or to an `api_key` holder who handles the place.
//! How `POST requests.json` answers is a jurisdiction setting (nearest
//! ancestor wins): `id` (default) creates the case at once and answers its
//! `service_request_id`; `token` queues the request for acceptance by staff
//! and answers a `token`, which `tokens/{token}.json` turns into the
//! `service_request_id` once accepted.

use crate::access::check_place;
use crate::session::CurrentUser;
use crate::AppState;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use gongzhi_domain::cases::{
    self as rules, format_iso, parse_iso, Category, Channel, Priority, Status, DAY_MS,
};
use gongzhi_domain::policy::{Action, Actor};
use gongzhi_store::cases::{self, CaseView, ListFilter, NewCase};
use gongzhi_store::open311::{self, Answer};
use gongzhi_store::register::{self, Place};
use gongzhi_store::{auth, db};
use serde_json::{json, Map, Value};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/open311/v2/{file}", get(top_get).post(top_post))
        .route("/open311/v2/services/{file}", get(service_definition))
        .route("/open311/v2/requests/{file}", get(one_request))
        .route("/open311/v2/tokens/{file}", get(token_request))
}

/// `tokens/{token}.json`: the service request id of a queued request, once
/// accepted (`service_request_id` is null while it waits).
async fn token_request(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    let Some((token, fmt)) = split_format(&file) else {
        return error(
            StatusCode::NOT_FOUND,
            Format::Json,
            format!("no resource '{file}': use .json or .xml"),
        );
    };
    match open311::get_token(&state.db, token).await {
        Ok(t) if t.state == "rejected" => error(
            StatusCode::NOT_FOUND,
            fmt,
            format!(
                "the request with token '{token}' was not accepted: {}",
                t.reason.unwrap_or_default()
            ),
        ),
        Ok(t) => respond(
            StatusCode::OK,
            fmt,
            "service_requests",
            json!([{"service_request_id": t.case_id, "token": t.token}]),
        ),
        Err(_) => error(
            StatusCode::NOT_FOUND,
            fmt,
            format!("unknown token '{token}'"),
        ),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Xml,
}

fn split_format(file: &str) -> Option<(&str, Format)> {
    if let Some(n) = file.strip_suffix(".json") {
        Some((n, Format::Json))
    } else {
        file.strip_suffix(".xml").map(|n| (n, Format::Xml))
    }
}

/// Escapes element text (no attributes are written, so quotes stay as they are).
fn xml_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t') => {}
            c => o.push(c),
        }
    }
    o
}

/// Writes a JSON value as XML elements: objects as child elements, arrays as
/// repeated elements named `item` (the caller names the list's element).
fn xml_value(out: &mut String, name: &str, v: &Value, item: &dyn Fn(&str) -> &'static str) {
    match v {
        Value::Null => out.push_str(&format!("<{name}/>")),
        Value::Object(m) => {
            out.push_str(&format!("<{name}>"));
            for (k, v) in m {
                xml_value(out, k, v, item);
            }
            out.push_str(&format!("</{name}>"));
        }
        Value::Array(a) => {
            out.push_str(&format!("<{name}>"));
            let child = item(name);
            for v in a {
                xml_value(out, child, v, item);
            }
            out.push_str(&format!("</{name}>"));
        }
        Value::String(s) => out.push_str(&format!("<{name}>{}</{name}>", xml_escape(s))),
        other => out.push_str(&format!("<{name}>{other}</{name}>")),
    }
}

fn child_name(list: &str) -> &'static str {
    match list {
        "services" => "service",
        "service_requests" => "request",
        "errors" => "error",
        "endpoints" => "endpoint",
        "formats" => "format",
        "attributes" => "attribute",
        "values" => "value",
        "keywords" => "keyword",
        _ => "item",
    }
}

/// A response: JSON as is; XML with `root` as the document element.
fn respond(status: StatusCode, fmt: Format, root: &str, v: Value) -> Response {
    match fmt {
        Format::Json => (
            status,
            [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
            v.to_string(),
        )
            .into_response(),
        Format::Xml => {
            let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>");
            xml_value(&mut out, root, &v, &child_name);
            (
                status,
                [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
                out,
            )
                .into_response()
        }
    }
}

/// The specification's error format: `[{"code": 400, "description": "…"}]`, `<errors><error>…`.
fn error(status: StatusCode, fmt: Format, description: impl Into<String>) -> Response {
    respond(
        status,
        fmt,
        "errors",
        json!([{"code": status.as_u16(), "description": description.into()}]),
    )
}

/// A path, query or form field holding a control character (see
/// [`crate::input`]), in the spec's error format.
pub(crate) fn control_refused(path: &str, field: &str) -> Response {
    let fmt = if path.ends_with(".xml") {
        Format::Xml
    } else {
        Format::Json
    };
    error(
        StatusCode::BAD_REQUEST,
        fmt,
        format!("{field}: contains a control character"),
    )
}

/// The first parameter holding a control character, by name.
fn refused_param(p: &[(String, String)]) -> Option<&str> {
    let bad = |s: &str| s.chars().any(crate::problem::is_refused_control);
    p.iter()
        .find(|(k, v)| bad(k) || bad(v))
        .map(|(k, _)| k.as_str())
}

fn params(query: Option<&str>, body: Option<&[u8]>) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = query
        .and_then(|q| serde_urlencoded::from_str(q).ok())
        .unwrap_or_default();
    if let Some(b) = body {
        v.extend(serde_urlencoded::from_bytes::<Vec<(String, String)>>(b).unwrap_or_default());
    }
    v
}

fn param<'a>(p: &'a [(String, String)], k: &str) -> Option<&'a str> {
    p.iter()
        .find(|(n, _)| n == k)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.trim().is_empty())
}

fn service(c: Category) -> Value {
    let (name, desc) = c.describe();
    json!({
        "service_code": c.as_str(),
        "service_name": name,
        "description": desc,
        "metadata": false,
        "type": "realtime",
        "keywords": c.as_str().replace('_', ","),
        "group": if c.is_complaint() { "complaints" } else { "services" },
    })
}

async fn top_get(
    State(state): State<AppState>,
    Path(file): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    let Some((name, fmt)) = split_format(&file) else {
        return error(
            StatusCode::NOT_FOUND,
            Format::Json,
            format!("no resource '{file}': use .json or .xml"),
        );
    };
    let p = params(q.as_deref(), None);
    match name {
        "discovery" => discovery(&headers, fmt),
        "services" => respond(
            StatusCode::OK,
            fmt,
            "services",
            Value::Array(Category::ALL.iter().map(|c| service(*c)).collect()),
        ),
        "requests" => list_requests(&state, &p, fmt).await,
        _ => error(StatusCode::NOT_FOUND, fmt, format!("no resource '{name}'")),
    }
}

fn discovery(headers: &HeaderMap, fmt: Format) -> Response {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    respond(
        StatusCode::OK,
        fmt,
        "discovery",
        json!({
            "changeset": "2026-11-23T00:00:00+08:00",
            "contact": "Your community service station (社区服务站)",
            "key_service": "Ask your community for an API key: an API token of a Gongzhi user (POST /api/v1/tokens).",
            "endpoints": [{
                "specification": "http://wiki.open311.org/GeoReport_v2",
                "url": format!("http://{host}/open311/v2"),
                "changeset": "2026-11-23T00:00:00+08:00",
                "type": "production",
                "formats": ["application/json", "text/xml"],
            }],
        }),
    )
}

async fn service_definition(Path(file): Path<String>) -> Response {
    let Some((code, fmt)) = split_format(&file) else {
        return error(
            StatusCode::NOT_FOUND,
            Format::Json,
            format!("no resource '{file}': use .json or .xml"),
        );
    };
    match Category::parse(code) {
        Some(c) => respond(
            StatusCode::OK,
            fmt,
            "service_definition",
            json!({"service_code": c.as_str(), "attributes": []}),
        ),
        None => error(
            StatusCode::NOT_FOUND,
            fmt,
            format!("unknown service_code '{code}'"),
        ),
    }
}

/// A community or compound by code (or id).
async fn jurisdiction(state: &AppState, j: &str) -> Option<Place> {
    let p = match register::place_by_code(&state.db, j).await {
        Ok(p) => p,
        Err(_) => register::get_place(&state.db, j).await.ok()?,
    };
    matches!(p.kind.as_str(), "community" | "compound").then_some(p)
}

async fn api_user(state: &AppState, key: Option<&str>) -> Option<CurrentUser> {
    let uid = auth::token_user(&state.db, key?.trim()).await.ok()??;
    let (grants, _) = auth::grants_of(&state.db, &uid).await.ok()?;
    Some(CurrentUser {
        actor: Actor {
            user_id: uid.clone(),
            grants,
        },
        user_id: uid,
    })
}

fn request_json(c: &CaseView, show_text: bool, notes: Option<String>) -> Value {
    let st = c.status();
    let (name, _) = Category::parse(&c.category)
        .map(|c| c.describe())
        .unwrap_or(("Other", ""));
    let mut m = Map::new();
    m.insert("service_request_id".into(), json!(c.id));
    m.insert("status".into(), json!(st.open311()));
    m.insert(
        "status_notes".into(),
        json!(notes.or_else(|| Some(format!("{st}"))).unwrap_or_default()),
    );
    m.insert("service_name".into(), json!(name));
    m.insert("service_code".into(), json!(c.category));
    m.insert(
        "description".into(),
        if show_text {
            json!(c.description)
        } else {
            Value::Null
        },
    );
    m.insert("agency_responsible".into(), json!(c.org_kind));
    m.insert(
        "service_notice".into(),
        json!(format!("resolution due {}", format_iso(c.resolution_due))),
    );
    m.insert(
        "requested_datetime".into(),
        json!(format_iso(c.reported_at)),
    );
    m.insert("updated_datetime".into(), json!(format_iso(c.updated_at)));
    m.insert(
        "expected_datetime".into(),
        json!(format_iso(c.resolution_due)),
    );
    m.insert(
        "address".into(),
        json!(c.address.clone().unwrap_or_else(|| c.place_name.clone())),
    );
    m.insert("address_id".into(), json!(c.place_id));
    m.insert("zipcode".into(), Value::Null);
    m.insert(
        "lat".into(),
        c.lat
            .as_deref()
            .and_then(|v| v.parse::<serde_json::Number>().ok())
            .map(Value::Number)
            .unwrap_or(Value::Null),
    );
    m.insert(
        "long".into(),
        c.lon
            .as_deref()
            .and_then(|v| v.parse::<serde_json::Number>().ok())
            .map(Value::Number)
            .unwrap_or(Value::Null),
    );
    m.insert("media_url".into(), Value::Null);
    Value::Object(m)
}

async fn may_read_text(state: &AppState, user: Option<&CurrentUser>, c: &CaseView) -> bool {
    if c.consent_publish {
        return true;
    }
    let Some(u) = user else { return false };
    if c.reporter_user_id.as_deref() == Some(u.user_id.as_str()) {
        return true;
    }
    match register::get_place(&state.db, &c.place_id).await {
        Ok(p) => crate::access::check_case(u, &p, c.grid_id.as_deref(), Action::ReadCases).is_ok(),
        Err(_) => false,
    }
}

#[allow(clippy::result_large_err)] // the error is the Open311 answer itself
async fn list_requests(state: &AppState, p: &[(String, String)], fmt: Format) -> Response {
    let Some(j) = param(p, "jurisdiction_id") else {
        return error(StatusCode::BAD_REQUEST, fmt, "jurisdiction_id is required: a compound or community code (see /api/v1/public/compounds)");
    };
    let Some(place) = jurisdiction(state, j).await else {
        return error(
            StatusCode::NOT_FOUND,
            fmt,
            format!("unknown jurisdiction_id '{j}'"),
        );
    };
    let user = api_user(state, param(p, "api_key")).await;
    if param(p, "api_key").is_some() && user.is_none() {
        return error(StatusCode::FORBIDDEN, fmt, "invalid api_key");
    }
    let mut f = ListFilter::default();
    if let Some(ids) = param(p, "service_request_id") {
        // Overrides all other parameters (the specification says so).
        f.ids = Some(
            ids.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .take(100)
                .collect(),
        );
    } else {
        if let Some(codes) = param(p, "service_code") {
            let mut cats = Vec::new();
            for c in codes.split(',') {
                match Category::parse(c) {
                    Some(c) => cats.push(c),
                    None => {
                        return error(
                            StatusCode::BAD_REQUEST,
                            fmt,
                            format!("unknown service_code '{c}'"),
                        )
                    }
                }
            }
            if cats.len() == 1 {
                f.category = Some(cats[0]);
            } else {
                // Several codes: filter after loading.
                f.category = None;
            }
        }
        if let Some(s) = param(p, "status") {
            let mut st = Vec::new();
            for x in s.split(',') {
                match x.trim() {
                    "open" => st.extend(Status::ALL.iter().filter(|s| s.open311() == "open")),
                    "closed" => st.extend(Status::ALL.iter().filter(|s| s.open311() == "closed")),
                    other => {
                        return error(
                            StatusCode::BAD_REQUEST,
                            fmt,
                            format!("status must be open or closed, not '{other}'"),
                        )
                    }
                }
            }
            f.status = Some(st);
        }
        let parse = |k: &str| -> Result<Option<i64>, Response> {
            match param(p, k) {
                Some(v) => parse_iso(v).map(Some).ok_or_else(|| {
                    error(
                        StatusCode::BAD_REQUEST,
                        fmt,
                        format!(
                            "{k} must be a W3C date-time such as 2026-11-01T00:00:00Z, not '{v}'"
                        ),
                    )
                }),
                None => Ok(None),
            }
        };
        let (start, end) = match (parse("start_date"), parse("end_date")) {
            (Ok(s), Ok(e)) => (s, e),
            (Err(r), _) | (_, Err(r)) => return r,
        };
        // The range defaults to the most recent 90 days and may not span more.
        let (from, to) = match (start, end) {
            (Some(s), Some(e)) => (s, e + 1),
            (Some(s), None) => (s, s + 90 * DAY_MS),
            (None, Some(e)) => (e - 90 * DAY_MS, e + 1),
            (None, None) => (db::now_ms() - 90 * DAY_MS, db::now_ms() + 1),
        };
        if to <= from {
            return error(
                StatusCode::BAD_REQUEST,
                fmt,
                "end_date is before start_date",
            );
        }
        if to - from > 90 * DAY_MS + 1 {
            return error(
                StatusCode::BAD_REQUEST,
                fmt,
                "start_date and end_date may not span more than 90 days",
            );
        }
        f.from = Some(from);
        f.to = Some(to);
    }
    let list = match cases::list_under(&state.db, &place.path, &f, 1000, 0).await {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(error = %e, "open311 list");
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                fmt,
                "the server could not complete the request",
            );
        }
    };
    let codes: Option<Vec<&str>> = param(p, "service_request_id")
        .is_none()
        .then(|| param(p, "service_code").map(|c| c.split(',').collect()))
        .flatten();
    let mut out = Vec::new();
    for c in list.iter().filter(|c| {
        codes
            .as_ref()
            .is_none_or(|cs| cs.contains(&c.category.as_str()))
    }) {
        let show = may_read_text(state, user.as_ref(), c).await;
        out.push(request_json(c, show, None));
    }
    respond(StatusCode::OK, fmt, "service_requests", Value::Array(out))
}

async fn one_request(
    State(state): State<AppState>,
    Path(file): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let Some((id, fmt)) = split_format(&file) else {
        return error(
            StatusCode::NOT_FOUND,
            Format::Json,
            format!("no resource '{file}': use .json or .xml"),
        );
    };
    let p = params(q.as_deref(), None);
    let c = match cases::get(&state.db, id).await {
        Ok(c) => c,
        Err(_) => {
            return error(
                StatusCode::NOT_FOUND,
                fmt,
                format!("no service request '{id}'"),
            )
        }
    };
    if let Some(j) = param(&p, "jurisdiction_id") {
        match jurisdiction(&state, j).await {
            Some(place) if c.place_path.starts_with(&place.path) => {}
            _ => {
                return error(
                    StatusCode::NOT_FOUND,
                    fmt,
                    format!("no service request '{id}' in jurisdiction '{j}'"),
                )
            }
        }
    }
    let user = api_user(&state, param(&p, "api_key")).await;
    let show = may_read_text(&state, user.as_ref(), &c).await;
    let notes = cases::timeline(&state.db, id)
        .await
        .ok()
        .and_then(|t| t.iter().rev().find_map(|e| e.note.clone()));
    respond(
        StatusCode::OK,
        fmt,
        "service_requests",
        json!([request_json(&c, show, notes)]),
    )
}

async fn top_post(
    State(state): State<AppState>,
    Path(file): Path<String>,
    RawQuery(q): RawQuery,
    body: axum::body::Bytes,
) -> Response {
    let Some((name, fmt)) = split_format(&file) else {
        return error(
            StatusCode::NOT_FOUND,
            Format::Json,
            format!("no resource '{file}': use .json or .xml"),
        );
    };
    if name != "requests" {
        return error(
            StatusCode::METHOD_NOT_ALLOWED,
            fmt,
            format!(
                "POST is accepted only on requests.{}",
                if fmt == Format::Json { "json" } else { "xml" }
            ),
        );
    }
    let p = params(q.as_deref(), Some(&body));
    if let Some(k) = refused_param(&p) {
        return control_refused(&file, &k.escape_default().to_string());
    }
    let Some(user) = api_user(&state, param(&p, "api_key")).await else {
        return error(
            StatusCode::FORBIDDEN,
            fmt,
            "a valid api_key is required to create a service request",
        );
    };
    let Some(j) = param(&p, "jurisdiction_id") else {
        return error(
            StatusCode::BAD_REQUEST,
            fmt,
            "jurisdiction_id is required: a compound or community code",
        );
    };
    let Some(jur) = jurisdiction(&state, j).await else {
        return error(
            StatusCode::NOT_FOUND,
            fmt,
            format!("unknown jurisdiction_id '{j}'"),
        );
    };
    let Some(code) = param(&p, "service_code") else {
        return error(StatusCode::BAD_REQUEST, fmt, "service_code is required");
    };
    let Some(category) = Category::parse(code) else {
        return error(
            StatusCode::BAD_REQUEST,
            fmt,
            format!("unknown service_code '{code}' (see services.json)"),
        );
    };
    let (lat, lon, addr, addr_id) = (
        param(&p, "lat"),
        param(&p, "long"),
        param(&p, "address_string"),
        param(&p, "address_id"),
    );
    if (lat.is_none() || lon.is_none()) && addr.is_none() && addr_id.is_none() {
        return error(
            StatusCode::BAD_REQUEST,
            fmt,
            "a location is required: lat and long, address_string or address_id",
        );
    }
    for (k, v) in [("lat", lat), ("long", lon)] {
        if let Some(v) = v {
            let ok = v.len() <= 20
                && v.parse::<f64>().is_ok_and(|x| {
                    x.is_finite() && x.abs() <= if k == "lat" { 90.0 } else { 180.0 }
                });
            if !ok {
                return error(
                    StatusCode::BAD_REQUEST,
                    fmt,
                    format!("{k} is not a coordinate: '{v}'"),
                );
            }
        }
    }
    // address_id names a place (building, unit) inside the jurisdiction.
    let place = match addr_id {
        Some(id) => match register::get_place(&state.db, id).await {
            Ok(p) if p.path.starts_with(&jur.path) => p,
            _ => {
                return error(
                    StatusCode::BAD_REQUEST,
                    fmt,
                    format!("address_id '{id}' is not a place in jurisdiction '{j}'"),
                )
            }
        },
        None => jur.clone(),
    };
    if check_place(&user, &place, Action::RaiseCase).is_err() {
        return error(
            StatusCode::FORBIDDEN,
            fmt,
            format!("this api_key may not create requests in jurisdiction '{j}'"),
        );
    }
    let Some(description) = param(&p, "description") else {
        return error(StatusCode::BAD_REQUEST, fmt, "description is required");
    };
    let name = [param(&p, "first_name"), param(&p, "last_name")]
        .iter()
        .flatten()
        .copied()
        .collect::<Vec<_>>()
        .join(" ");
    let (address, lat, lon) = (
        addr.map(str::to_string),
        lat.map(str::to_string),
        lon.map(str::to_string),
    );
    let reporter_name = (!name.is_empty()).then_some(name);
    let reporter_phone = param(&p, "phone").map(str::to_string);
    if matches!(
        open311::answer_at(&state.db, &place.path).await,
        Ok(Answer::Token)
    ) {
        let q = open311::Queued {
            category,
            description: description.to_string(),
            address,
            lat,
            lon,
            reporter_name,
            reporter_phone,
        };
        let res = open311::enqueue(&state.db, &place, &user.user_id, &q, db::now_ms()).await;
        return match res {
            Ok(token) => respond(
                StatusCode::OK,
                fmt,
                "service_requests",
                json!([{"token": token, "service_notice": "queued for acceptance by the community; tokens/{token} gives the service_request_id once accepted", "account_id": Value::Null}]),
            ),
            Err(e) => create_failed(e, fmt),
        };
    }
    let nc = NewCase {
        place,
        part_id: None,
        category,
        priority: Priority::Normal,
        description: description.to_string(),
        address,
        lat,
        lon,
        channel: Channel::Open311,
        reporter_user_id: Some(user.user_id.clone()),
        reporter_name,
        reporter_phone,
        consent_publish: false,
        raised_by: user.audit_name(),
    };
    let res = cases::raise(&state.db, &nc, crate::cases::gate::calendar(), db::now_ms()).await;
    match res {
        Ok(id) => {
            let c = cases::get(&state.db, &id).await.ok();
            let due = c.map(|c| format_iso(c.resolution_due)).unwrap_or_default();
            let limits = rules::default_limits(category, Priority::Normal);
            respond(
                StatusCode::OK,
                fmt,
                "service_requests",
                json!([{"service_request_id": id, "service_notice": format!("expected within {} (by {due})", limits.resolution.describe()), "account_id": Value::Null}]),
            )
        }
        Err(e) => create_failed(e, fmt),
    }
}

fn create_failed(e: gongzhi_store::StoreError, fmt: Format) -> Response {
    match e {
        gongzhi_store::StoreError::Invalid { field, reason } => {
            error(StatusCode::BAD_REQUEST, fmt, format!("{field}: {reason}"))
        }
        e => {
            tracing::error!(error = %e, "open311 create");
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                fmt,
                "the server could not complete the request",
            )
        }
    }
}

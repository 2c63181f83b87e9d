//! `/api/docs`: the API reference for people, rendered on the server from
//! the same OpenAPI document as `/api/openapi.json` (no CDN, no script):
//! every operation by tag, its parameters, its request body's fields (with
//! `$ref`s resolved) and its documented answers.

use crate::i18n::Lang;
use crate::page::{lang_of, render, LangQuery};
use askama::Template;
use axum::extract::Query;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::Value;
use std::collections::BTreeMap;

/// One field of a request body.
pub struct Field {
    pub name: String,
    pub ty: String,
    pub required: bool,
    pub description: String,
}

/// One operation.
pub struct Op {
    pub anchor: String,
    pub method: String,
    pub path: String,
    pub summary: String,
    pub description: String,
    /// (name, where, required, description)
    pub params: Vec<(String, String, bool, String)>,
    pub body: Vec<Field>,
    /// (status, description)
    pub responses: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "api_docs.html")]
struct DocsPage {
    lang: Lang,
    logged_in: bool,
    title: String,
    version: String,
    /// (tag, its name in the reader's language, its operations)
    groups: Vec<(String, String, Vec<Op>)>,
    count: usize,
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().trim().to_string()
}

/// The schema a `$ref` (or the schema itself) stands for.
fn resolve<'a>(doc: &'a Value, s: &'a Value) -> &'a Value {
    let mut s = s;
    for _ in 0..8 {
        match s["$ref"].as_str() {
            Some(r) => match r.strip_prefix("#/components/schemas/") {
                Some(name) => s = &doc["components"]["schemas"][name],
                None => return s,
            },
            None => return s,
        }
    }
    s
}

/// A short type name for a schema: `string`, `integer`, `array of X`, a
/// component's name, `A | B`.
fn type_of(s: &Value) -> String {
    if let Some(r) = s["$ref"].as_str() {
        return r.rsplit('/').next().unwrap_or(r).to_string();
    }
    for k in ["oneOf", "anyOf"] {
        if let Some(alts) = s[k].as_array() {
            return alts.iter().map(type_of).collect::<Vec<_>>().join(" | ");
        }
    }
    match &s["type"] {
        Value::String(t) if t == "array" => format!("array of {}", type_of(&s["items"])),
        Value::String(t) => t.clone(),
        Value::Array(ts) => ts
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" | "),
        _ => "any".into(),
    }
}

fn fields(doc: &Value, schema: &Value) -> Vec<Field> {
    let s = resolve(doc, schema);
    let required: Vec<&str> = s["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(props) = s["properties"].as_object() else {
        return Vec::new();
    };
    props
        .iter()
        .map(|(name, p)| Field {
            name: name.clone(),
            ty: type_of(p),
            required: required.contains(&name.as_str()),
            description: text(&resolve(doc, p)["description"]),
        })
        .collect()
}

/// The operations of an OpenAPI document, grouped by their first tag.
pub fn operations(doc: &Value) -> Vec<(String, Vec<Op>)> {
    let mut groups: BTreeMap<String, Vec<Op>> = BTreeMap::new();
    let Some(paths) = doc["paths"].as_object() else {
        return Vec::new();
    };
    for (path, item) in paths {
        let Some(item) = item.as_object() else {
            continue;
        };
        for method in ["get", "post", "put", "patch", "delete"] {
            let Some(op) = item.get(method) else {
                continue;
            };
            let tag = op["tags"][0].as_str().unwrap_or("other").to_string();
            let params = op["parameters"]
                .as_array()
                .map(|ps| {
                    ps.iter()
                        .map(|p| {
                            (
                                text(&p["name"]),
                                text(&p["in"]),
                                p["required"].as_bool().unwrap_or(false),
                                text(&p["description"]),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            let body = op["requestBody"]["content"]
                .as_object()
                .and_then(|c| c.values().next())
                .map(|c| fields(doc, &c["schema"]))
                .unwrap_or_default();
            let responses = op["responses"]
                .as_object()
                .map(|rs| {
                    rs.iter()
                        .map(|(status, r)| (status.clone(), text(&r["description"])))
                        .collect()
                })
                .unwrap_or_default();
            let anchor: String = format!("{method}-{path}")
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                .collect();
            groups.entry(tag).or_default().push(Op {
                anchor,
                method: method.to_uppercase(),
                path: path.clone(),
                summary: text(&op["summary"]),
                description: text(&op["description"]),
                params,
                body,
                responses,
            });
        }
    }
    groups.into_iter().collect()
}

/// A tag as a person reads it (`apidocs.tag.*`); an untranslated tag shows
/// as itself.
pub fn tag_name(lang: Lang, tag: &str) -> String {
    match lang.t(&format!("apidocs.tag.{tag}")) {
        "??" => tag.to_string(),
        name => name.to_string(),
    }
}

/// The page for `doc`.
pub fn page(doc: &Value, q: &LangQuery, headers: &HeaderMap) -> Response {
    let (lang, set) = lang_of(q, headers);
    let groups: Vec<(String, String, Vec<Op>)> = operations(doc)
        .into_iter()
        .map(|(tag, ops)| (tag.clone(), tag_name(lang, &tag), ops))
        .collect();
    let count = groups.iter().map(|g| g.2.len()).sum();
    render(
        &DocsPage {
            lang,
            logged_in: crate::session::cookie(headers, crate::session::SESSION_COOKIE).is_some(),
            title: text(&doc["info"]["title"]),
            version: text(&doc["info"]["version"]),
            groups,
            count,
        },
        StatusCode::OK,
        set,
    )
}

/// The handler: `/api/docs` over the server's own document.
pub async fn handler(
    doc: std::sync::Arc<Value>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    page(&doc, &q, &headers)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn operations_resolve_bodies_and_group_by_tag() {
        let doc = json!({
            "paths": {"/api/v1/x/{id}": {"post": {
                "tags": ["books"], "summary": "Do x",
                "parameters": [{"name": "id", "in": "path", "required": true, "description": "the x"}],
                "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/XBody"}}}},
                "responses": {"201": {"description": "made"}}
            }}},
            "components": {"schemas": {"XBody": {"type": "object", "required": ["amount"], "properties": {
                "amount": {"type": "string", "description": "yuan"},
                "tags": {"type": "array", "items": {"type": "string"}}
            }}}}
        });
        let g = operations(&doc);
        assert_eq!(g.len(), 1);
        assert_eq!(g[0].0, "books");
        let op = &g[0].1[0];
        assert_eq!(
            (op.method.as_str(), op.path.as_str()),
            ("POST", "/api/v1/x/{id}")
        );
        assert_eq!(op.params[0].0, "id");
        assert_eq!(op.body.len(), 2);
        let amount = op.body.iter().find(|f| f.name == "amount").unwrap();
        assert!(amount.required && amount.ty == "string" && amount.description == "yuan");
        let tags = op.body.iter().find(|f| f.name == "tags").unwrap();
        assert_eq!(tags.ty, "array of string");
        assert!(!tags.required);
        assert_eq!(op.responses, [("201".to_string(), "made".to_string())]);
        assert!(op
            .anchor
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-'));
    }
}

//! The XAPI dispatcher: auth, role check, path routing, OData options, and the
//! response shapes (`@odata.context`, 201 + entity, 204, OData errors).

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::error::{XapiError, XapiResult};
use super::path::{Key, Segment, function_arg, key, query_pairs, segments};
use super::query::{self, Options, context_select, parse_options};
use super::schema::{EntityType, GROUP, PARKING, USER, USER_GROUP};
use super::store::{OWNER_ROLE, Store};
use super::{XapiState, check_xapi_bearer};

/// The three entity sets served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Set {
    Users,
    Groups,
    Parkings,
}

impl Set {
    fn parse(name: &str) -> Option<Self> {
        match name {
            "Users" => Some(Self::Users),
            "Groups" => Some(Self::Groups),
            "Parkings" => Some(Self::Parkings),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Users => "Users",
            Self::Groups => "Groups",
            Self::Parkings => "Parkings",
        }
    }

    fn ty(self) -> &'static EntityType {
        match self {
            Self::Users => &USER,
            Self::Groups => &GROUP,
            Self::Parkings => &PARKING,
        }
    }

    fn views(self, store: &Store) -> Vec<Value> {
        match self {
            Self::Users => store.user_views(),
            Self::Groups => store.group_views(),
            Self::Parkings => store.parking_views(),
        }
    }

    fn view(self, store: &Store, id: i32) -> Option<Value> {
        match self {
            Self::Users => store.user_view(id),
            Self::Groups => store.group_view(id),
            Self::Parkings => store.parking_view(id),
        }
    }

    fn by_number(self, store: &Store, number: &str) -> Option<i32> {
        match self {
            Self::Users => store.user_by_number(number),
            Self::Parkings => store.parking_by_number(number),
            Self::Groups => None,
        }
    }
}

/// Every XAPI request comes here.
pub(crate) async fn dispatch(
    State(state): State<Arc<XapiState>>,
    method: Method,
    uri: Uri,
    RawQuery(raw_query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(status) = check_xapi_bearer(&state.shared, &headers) {
        let message = match status {
            StatusCode::UNAUTHORIZED => "The request requires valid user authentication.",
            _ => "The API client has no access to the Configuration API.",
        };
        let mut response = XapiError::new(
            status,
            status.canonical_reason().unwrap_or("Error"),
            message,
        )
        .into_response();
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        return response;
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let base = format!("http://{host}/xapi/v1");
    let request = Request {
        method,
        pairs: query_pairs(raw_query.as_deref()),
        body,
        base,
        number_keys: has_number_keys(&state.shared.config.version),
    };
    let Some(segments) = segments(uri.path()) else {
        return not_found().into_response();
    };
    let mut store = state.store();
    match route(&request, &segments, &mut store.store) {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

struct Request {
    method: Method,
    pairs: Vec<(String, String)>,
    body: Bytes,
    base: String,
    number_keys: bool,
}

impl Request {
    fn json_object(&self) -> XapiResult<Map<String, Value>> {
        match serde_json::from_slice::<Value>(&self.body) {
            Ok(Value::Object(map)) => Ok(map),
            Ok(_) => Err(XapiError::bad_request(
                "The request body must be a JSON object.",
            )),
            Err(e) => Err(XapiError::bad_request(format!(
                "The request body is not valid JSON: {e}"
            ))),
        }
    }

    fn entity(&self, set: Set, value: &Value, options: &Options) -> Response {
        let mut body = match query::project(value, set.ty(), &options.shape) {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        let context = format!(
            "{}/$metadata#{}{}/$entity",
            self.base,
            set.name(),
            context_select(&options.shape)
        );
        body.insert("@odata.context".to_owned(), json!(context));
        Json(Value::Object(body)).into_response()
    }
}

fn has_number_keys(version: &str) -> bool {
    let parts: Vec<u32> = version.split('.').map_while(|p| p.parse().ok()).collect();
    parts.as_slice() >= [20, 0, 8].as_slice()
}

fn not_found() -> XapiError {
    XapiError::not_found("No HTTP resource was found that matches the request URI.")
}

fn method_not_allowed() -> XapiError {
    XapiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
        "The HTTP method is not allowed on this resource.",
    )
}

fn require_owner(store: &Store) -> XapiResult<()> {
    match store.principal_role() {
        Some(OWNER_ROLE) => Ok(()),
        role => Err(XapiError::forbidden(format!(
            "The API client's role ({}) may not change the configuration; the system owner role is required.",
            role.unwrap_or("none")
        ))),
    }
}

fn route(request: &Request, segments: &[Segment], store: &mut Store) -> XapiResult<Response> {
    let writes = request.method != Method::GET;
    if writes {
        require_owner(store)?;
    }
    match segments {
        [] => {
            let sets: Vec<Value> = ["Users", "Groups", "Parkings", "Defs"]
                .iter()
                .map(|n| json!({"name": n, "kind": "EntitySet", "url": n}))
                .collect();
            Ok(Json(json!({
                "@odata.context": format!("{}/$metadata", request.base),
                "value": sets,
            }))
            .into_response())
        }
        [seg] if seg.name == "Defs" && seg.args.is_none() => match request.method {
            Method::GET => Ok(Json(json!({
                "@odata.context": format!("{}/$metadata#Defs(Id)", request.base),
                "Id": 0,
            }))
            .into_response()),
            _ => Err(method_not_allowed()),
        },
        [seg] => {
            let set = Set::parse(&seg.name).ok_or_else(not_found)?;
            match &seg.args {
                None => collection(request, set, store),
                Some(args) => {
                    let id = resolve_key(request, set, store, args)?;
                    entity(request, set, store, id)
                }
            }
        }
        [seg, action] => {
            let set = Set::parse(&seg.name).ok_or_else(not_found)?;
            match (&seg.args, action.name.as_str(), &action.args) {
                (None, "Pbx.GetByNumber", Some(args))
                    if set != Set::Groups && !request.number_keys =>
                {
                    if request.method != Method::GET {
                        return Err(method_not_allowed());
                    }
                    // A missing or malformed parameter is a 404 on 3CX.
                    let number = function_arg(args, "number").ok_or_else(not_found)?;
                    let id = set.by_number(store, &number).ok_or_else(not_found)?;
                    entity(request, set, store, id)
                }
                (None, "Pbx.BatchDelete", None)
                    if set == Set::Users && request.method == Method::POST =>
                {
                    let body = request.json_object()?;
                    let ids = body
                        .get("ids")
                        .or_else(|| body.get("Ids"))
                        .and_then(Value::as_array)
                        .ok_or_else(|| {
                            XapiError::bad_request("The parameter 'ids' is required.")
                        })?;
                    let ids: Vec<i64> = ids.iter().filter_map(Value::as_i64).collect();
                    let failures = store.batch_delete_users(&ids);
                    Ok(Json(json!({
                        "@odata.context": format!("{}/$metadata#Collection(Pbx.UserDeleteError)", request.base),
                        "value": failures,
                    }))
                    .into_response())
                }
                (None, "Pbx.DeleteCompanyById", None)
                    if set == Set::Groups && request.method == Method::POST =>
                {
                    let body = request.json_object()?;
                    let id = body
                        .get("id")
                        .or_else(|| body.get("Id"))
                        .and_then(Value::as_i64)
                        .and_then(|id| i32::try_from(id).ok())
                        .ok_or_else(|| XapiError::bad_request("The parameter 'id' is required."))?;
                    store.delete_group(id)?;
                    Ok(StatusCode::NO_CONTENT.into_response())
                }
                (Some(args), nav, None) if request.method == Method::GET => {
                    let id = resolve_key(request, set, store, args)?;
                    navigation(request, set, store, id, nav)
                }
                _ => Err(not_found()),
            }
        }
        _ => Err(not_found()),
    }
}

fn resolve_key(request: &Request, set: Set, store: &Store, args: &str) -> XapiResult<i32> {
    match key(args) {
        Some(Key::Id(id)) => Ok(id),
        // The alternate key exists from 20.0.8, and not on departments.
        Some(Key::Number(number)) if request.number_keys && set != Set::Groups => {
            set.by_number(store, &number).ok_or_else(not_found)
        }
        _ => Err(not_found()),
    }
}

fn collection(request: &Request, set: Set, store: &mut Store) -> XapiResult<Response> {
    match request.method {
        Method::GET => {
            let options = parse_options(&request.pairs, set.ty())?;
            let (page, total) = query::apply(&options, set.views(store))?;
            let value: Vec<Value> = page
                .iter()
                .map(|e| query::project(e, set.ty(), &options.shape))
                .collect();
            let mut body = Map::new();
            body.insert(
                "@odata.context".to_owned(),
                json!(format!(
                    "{}/$metadata#{}{}",
                    request.base,
                    set.name(),
                    context_select(&options.shape)
                )),
            );
            if options.count {
                body.insert("@odata.count".to_owned(), json!(total));
            }
            body.insert("value".to_owned(), Value::Array(value));
            Ok(Json(Value::Object(body)).into_response())
        }
        Method::POST => {
            let body = request.json_object()?;
            let id = match set {
                Set::Users => store.create_user(body)?,
                Set::Groups => store.create_group(body)?,
                Set::Parkings => store.create_parking(body)?,
            };
            let view = set.view(store, id).unwrap_or(Value::Null);
            let mut response = request.entity(set, &view, &Options::default());
            *response.status_mut() = StatusCode::CREATED;
            if let Ok(location) =
                HeaderValue::from_str(&format!("{}/{}({id})", request.base, set.name()))
            {
                response.headers_mut().insert(header::LOCATION, location);
            }
            Ok(response)
        }
        _ => Err(method_not_allowed()),
    }
}

fn entity(request: &Request, set: Set, store: &mut Store, id: i32) -> XapiResult<Response> {
    let missing = || XapiError::not_found(format!("{} with Id {id} was not found.", set.name()));
    match request.method {
        Method::GET => {
            let options = parse_options(&request.pairs, set.ty())?;
            let view = set.view(store, id).ok_or_else(missing)?;
            Ok(request.entity(set, &view, &options))
        }
        Method::PATCH => {
            let body = request.json_object()?;
            match set {
                Set::Users => store.update_user(id, body)?,
                Set::Groups => store.update_group(id, body)?,
                Set::Parkings => store.update_parking(id, body)?,
            }
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        Method::DELETE => {
            match set {
                Set::Users => store.delete_user(id)?,
                Set::Groups => store.delete_group(id)?,
                Set::Parkings => store.delete_parking(id)?,
            }
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        _ => Err(method_not_allowed()),
    }
}

/// `Groups({id})/Members`, `Users({id})/Groups`, `Parkings({id})/Groups`.
fn navigation(
    request: &Request,
    set: Set,
    store: &Store,
    id: i32,
    nav: &str,
) -> XapiResult<Response> {
    let view = set.view(store, id).ok_or_else(|| {
        XapiError::not_found(format!("{} with Id {id} was not found.", set.name()))
    })?;
    let valid = matches!(
        (set, nav),
        (Set::Groups, "Members") | (Set::Users, "Groups") | (Set::Parkings, "Groups")
    );
    if !valid {
        return Err(not_found());
    }
    let options = parse_options(&request.pairs, &USER_GROUP)?;
    let items = view
        .get(nav)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let (page, total) = query::apply(&options, items)?;
    let value: Vec<Value> = page
        .iter()
        .map(|e| query::project(e, &USER_GROUP, &options.shape))
        .collect();
    let mut body = json!({
        "@odata.context": format!("{}/$metadata#{}({id})/{nav}", request.base, set.name()),
        "value": value,
    });
    if options.count {
        body["@odata.count"] = json!(total);
    }
    Ok(Json(body).into_response())
}

//! What each request of a run is: the targets (`--target`, `--compare`, or the scenario's),
//! the client options (the scenario's `[client]` and `[held]` with flags on top) and the request
//! templates (the scenario's `[[request]]` entries, or one from `--path/--method/--body`).
use prodlike_net::Target;

use super::{RunOptions, usage};
use crate::LoadError;
use crate::engine::ClientOptions;
use crate::mix::{Template, TemplateSpec};
use crate::scenario::Scenario;

/// The target, then the compare target when there is one.
pub(super) fn targets(o: &RunOptions, sc: &Scenario) -> Result<Vec<Target>, LoadError> {
    let target_url =
        o.target.clone().or(sc.target.clone()).ok_or_else(|| {
            usage("no target: give --target URL (or `target` in the scenario file)")
        })?;
    let mut targets =
        vec![Target::parse(&target_url).map_err(|e| usage(format!("--target: {e}")))?];
    if let Some(b) = o.compare.clone().or(sc.compare.clone()) {
        targets.push(Target::parse(&b).map_err(|e| usage(format!("--compare: {e}")))?);
    }
    Ok(targets)
}

/// The scenario's client options with the flags applied (a `-H` header replaces the
/// scenario's header of the same name).
pub(super) fn client_options(o: &RunOptions, sc: &Scenario) -> ClientOptions {
    let mut client: ClientOptions = sc.client.clone();
    if let Some(t) = o.timeout {
        client.timeout = t;
    }
    if let Some(ca) = &o.ca_file {
        client.ca_file = Some(ca.clone());
    }
    for (k, v) in &o.headers {
        client.headers.retain(|(hk, _)| !hk.eq_ignore_ascii_case(k));
        client.headers.push((k.to_ascii_lowercase(), v.clone()));
    }
    if let Some(h) = o.hold {
        client.held.idle = h;
        client.held.reopen = true;
    }
    client.http2 = o.http2;
    client
}

/// What HTTP/2 runs cannot do: the connection-level behaviours of HTTP/1.1 clients (one
/// multiplexed connection carries every request).
pub(super) fn check_http2(client: &ClientOptions) -> Result<(), LoadError> {
    if !client.http2 {
        return Ok(());
    }
    for (what, set) in [
        ("client.churn", client.churn > 0.0),
        ("client.slow_readers", client.slow_readers > 0.0),
        ("held connections (--hold, [held])", client.held.idle > 0),
    ] {
        if set {
            return Err(usage(format!(
                "--http2: {what} is an HTTP/1.1 connection behaviour; HTTP/2 runs carry every request on one multiplexed connection per target. Remove it or drop --http2"
            )));
        }
    }
    Ok(())
}

/// The scenario's templates, or the single request the flags describe.
pub(super) fn templates(o: &RunOptions, sc: &Scenario) -> Result<Vec<Template>, LoadError> {
    let mut templates: Vec<Template> = sc.templates.clone();
    if o.path.is_none() && o.method.is_none() && o.body.is_none() {
        return Ok(templates);
    }
    if !templates.is_empty() {
        return Err(usage(
            "--path/--method/--body describe a single request; the scenario already has [[request]] entries",
        ));
    }
    let method = o.method.clone().unwrap_or_else(|| "GET".into());
    let path = o.path.clone().unwrap_or_else(|| "/".into());
    let spec = TemplateSpec {
        name: format!("{} {path}", method.to_ascii_uppercase()),
        weight: 1.0,
        method,
        path,
        headers: Vec::new(),
        body: o.body.clone(),
    };
    templates.push(
        Template::compile(&spec, None)
            .map_err(|e| usage(format!("--path/--method/--body: {e}")))?,
    );
    Ok(templates)
}

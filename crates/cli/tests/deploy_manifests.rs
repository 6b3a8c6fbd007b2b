//! deploy/kubernetes and the Dockerfile, checked without a cluster or an image (none can run
//! here): the kustomization renders with `kubectl kustomize`; every object validates against the
//! Kubernetes schemas (`kubernetes-validate --strict`, from PyPI, installed by scripts/test); the
//! PodMonitor, a custom resource with no schema there, is the only unchecked kind, and is checked
//! by hand for what matters (it selects the proxies and names their admin port); a deliberately
//! broken manifest fails validation; selectors, ports, probes and mounted files agree with each
//! other; the proxy's shadow.toml and the sync's data.toml are accepted by prodlike's own
//! parsers; the Dockerfile builds in one stage and runs in a minimal one as a non-root user.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may unwrap (DEVELOPERS.md)

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `program` is on PATH; under CI=true a missing one fails the test instead of skipping it.
fn have(program: &str) -> bool {
    let found = Command::new(program)
        .arg("--help")
        .output()
        .is_ok_and(|o| o.status.success() || !o.stdout.is_empty() || !o.stderr.is_empty());
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{program} is missing (scripts/test installs it)"
        );
        eprintln!("SKIP: {program} is not installed");
    }
    found
}

fn render() -> String {
    render_dir("deploy/kubernetes")
}

/// `kubectl kustomize` of a folder of the repository.
fn render_dir(dir: &str) -> String {
    let o = Command::new("kubectl")
        .args(["kustomize"])
        .arg(repo().join(dir))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

/// `kubernetes-validate --strict` of `yaml`: (exit code, its warnings and errors).
fn validate(yaml: &str) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rendered.yaml");
    std::fs::write(&file, yaml).unwrap();
    let o = Command::new("kubernetes-validate")
        .args(["--strict", "--quiet"])
        .arg(&file)
        .output()
        .unwrap();
    let mut said = String::from_utf8_lossy(&o.stdout).into_owned();
    said.push_str(&String::from_utf8_lossy(&o.stderr));
    (o.status.code(), said)
}

fn objects(yaml: &str) -> Vec<Value> {
    serde_saphyr::from_multiple::<Value>(yaml).unwrap()
}

fn find<'a>(objects: &'a [Value], kind: &str, name: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

/// Every label of `selector` is on `labels`.
fn selects(selector: &Value, labels: &Value) -> bool {
    selector
        .as_object()
        .unwrap()
        .iter()
        .all(|(k, v)| labels.get(k) == Some(v))
}

#[test]
fn the_manifests_validate_against_the_kubernetes_schemas_and_a_broken_one_does_not() {
    if !have("kubectl") || !have("kubernetes-validate") {
        return;
    }
    let yaml = render();
    let (code, said) = validate(&yaml);
    assert_eq!(code, Some(0), "{said}");
    // Only the custom resource goes unchecked, and it is named.
    let unchecked: Vec<&str> = said
        .lines()
        .filter(|l| l.contains("Couldn't find schema"))
        .collect();
    assert_eq!(unchecked.len(), 1, "{said}");
    assert!(unchecked[0].contains("kind PodMonitor"), "{said}");

    // A field of the wrong type, and a field that does not exist, are each refused.
    for (from, to, field) in [
        ("replicas: 3", "replicas: three", "spec.replicas"),
        (
            "concurrencyPolicy: Forbid",
            "concurrencyPolicy: Forbid\n  concurrency: 1",
            "concurrency",
        ),
    ] {
        assert!(yaml.contains(from), "{from}");
        let (code, said) = validate(&yaml.replacen(from, to, 1));
        assert_ne!(code, Some(0), "{to}: {said}");
        assert!(said.contains(field), "{field}: {said}");
    }
}

#[test]
fn selectors_ports_probes_and_files_agree() {
    if !have("kubectl") {
        return;
    }
    let all = objects(&render());
    let deployment = find(&all, "Deployment", "prodlike-shadow");
    let pod = &deployment["spec"]["template"];
    let labels = &pod["metadata"]["labels"];
    assert!(selects(
        &deployment["spec"]["selector"]["matchLabels"],
        labels
    ));
    for (kind, selector) in [
        ("Service", "/spec/selector"),
        ("PodDisruptionBudget", "/spec/selector/matchLabels"),
        ("PodMonitor", "/spec/selector/matchLabels"),
        ("NetworkPolicy", "/spec/podSelector/matchLabels"),
    ] {
        let o = find(&all, kind, "prodlike-shadow");
        assert!(
            selects(o.pointer(selector).unwrap(), labels),
            "{kind} does not select the proxies"
        );
    }
    // Replicas beyond what the budget keeps, so a node drain can proceed.
    let replicas = deployment["spec"]["replicas"].as_u64().unwrap();
    let min = find(&all, "PodDisruptionBudget", "prodlike-shadow")["spec"]["minAvailable"]
        .as_u64()
        .unwrap();
    assert!(min < replicas);

    let container = &pod["spec"]["containers"][0];
    let ports: Vec<(&str, u64)> = container["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap(),
                p["containerPort"].as_u64().unwrap(),
            )
        })
        .collect();
    let port = |name: &str| ports.iter().find(|p| p.0 == name).map(|p| p.1);
    assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/healthz");
    let probe_port = container["readinessProbe"]["httpGet"]["port"]
        .as_str()
        .unwrap();
    assert!(port(probe_port).is_some(), "probe port {probe_port}");
    let monitor = find(&all, "PodMonitor", "prodlike-shadow");
    let endpoint = &monitor["spec"]["podMetricsEndpoints"][0];
    assert_eq!(endpoint["path"], "/metrics");
    assert!(port(endpoint["port"].as_str().unwrap()).is_some());
    assert_eq!(pod["spec"]["securityContext"]["runAsNonRoot"], true);
    assert!(
        pod["spec"]["securityContext"]["runAsUser"]
            .as_u64()
            .unwrap()
            > 0,
        "non-root"
    );

    // The config the Deployment mounts is the generated ConfigMap, and prodlike accepts it.
    let args: Vec<&str> = container["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(args, ["shadow", "--config", "/etc/prodlike/shadow.toml"]);
    let map_name = pod["spec"]["volumes"][0]["configMap"]["name"]
        .as_str()
        .unwrap();
    let map = find(&all, "ConfigMap", map_name);
    let toml = map["data"]["shadow.toml"].as_str().unwrap();
    let config = prodlike_shadow::ShadowConfig::from_toml(toml, "shadow.toml").unwrap();
    config.validate().unwrap();
    let port_of = |addr: &str| addr.rsplit(':').next().unwrap().parse::<u64>().unwrap();
    assert_eq!(Some(port_of(&config.listen)), port("http"));
    assert_eq!(
        Some(port_of(config.admin.as_deref().unwrap())),
        port("admin")
    );
    // Probes and scrapes come from other pods: the admin server listens beyond loopback.
    assert!(config.admin.as_deref().unwrap().starts_with("0.0.0.0:"));

    // The nightly sync never overlaps itself, and its rules parse.
    let cron = find(&all, "CronJob", "prodlike-data-sync");
    assert_eq!(cron["spec"]["concurrencyPolicy"], "Forbid");
    let job = &cron["spec"]["jobTemplate"]["spec"]["template"]["spec"];
    let rules_map = job["volumes"][0]["configMap"]["name"].as_str().unwrap();
    let rules = find(&all, "ConfigMap", rules_map)["data"]["data.toml"]
        .as_str()
        .unwrap();
    prodlike_data::rules::Rules::parse(rules, "data.toml").unwrap();
    // Verify reads the result the sync wrote.
    let sync_args = job["initContainers"][0]["args"].to_string();
    let verify_args = job["containers"][0]["args"].to_string();
    assert!(sync_args.contains("/results/sync.json"), "{sync_args}");
    assert!(
        verify_args.contains("--sync-result") && verify_args.contains("/results/sync.json"),
        "{verify_args}"
    );
}

#[test]
fn the_dockerfile_builds_in_one_stage_and_runs_unprivileged_in_a_minimal_one() {
    let text = std::fs::read_to_string(repo().join("Dockerfile")).unwrap();
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let stages: Vec<&str> = lines
        .iter()
        .filter(|l| l.starts_with("FROM "))
        .copied()
        .collect();
    assert_eq!(stages.len(), 2, "{stages:?}");
    assert!(stages[0].ends_with(" AS build"), "{}", stages[0]);
    assert!(stages[1].contains("distroless"), "{}", stages[1]);
    let runtime: Vec<&str> = lines
        .iter()
        .skip_while(|l| **l != stages[1])
        .copied()
        .collect();
    assert!(runtime.iter().any(|l| l.starts_with("COPY --from=build ")));
    assert!(
        !runtime.iter().any(|l| l.starts_with("RUN ")),
        "no shell in the runtime stage"
    );
    let user = runtime
        .iter()
        .find_map(|l| l.strip_prefix("USER "))
        .expect("a USER in the runtime stage");
    let uid: u32 = user.split(':').next().unwrap().parse().unwrap();
    assert_ne!(uid, 0, "runs as root");
    assert!(runtime.contains(&r#"ENTRYPOINT ["/usr/local/bin/prodlike"]"#));
    assert!(
        lines
            .iter()
            .any(|l| l.contains("cargo build --release --locked"))
    );
}

/// The distributed load run (deploy/kubernetes/load, applied per run): it validates, and a
/// broken field is refused; the Indexed Job's width agrees with the segment each pod takes;
/// a pod's arguments, with Kubernetes' `$(VAR)` expansion done as the kubelet would (its index,
/// run.env), are accepted by `prodlike load --dry-run`, which fires together with its sibling
/// pods every arrival once; the merge Job reads the folder the segments write, on a
/// ReadWriteMany volume.
#[test]
// Long: the run's manifests checked in the order a reader meets them, one short block each.
#[allow(clippy::too_many_lines)]
fn the_load_run_validates_and_its_pods_arguments_are_prodlikes() {
    if !have("kubectl") || !have("kubernetes-validate") {
        return;
    }
    let yaml = render_dir("deploy/kubernetes/load");
    let (code, said) = validate(&yaml);
    assert_eq!(code, Some(0), "{said}");
    assert!(!said.contains("Couldn't find schema"), "{said}");
    let (code, said) = validate(&yaml.replacen("completions: 4", "completions: four", 1));
    assert_ne!(code, Some(0), "{said}");
    assert!(said.contains("completions"), "{said}");

    let all = objects(&yaml);
    let segments = find(&all, "Job", "prodlike-load-segments");
    let spec = &segments["spec"];
    assert_eq!(spec["completionMode"], "Indexed");
    let width = spec["completions"].as_u64().unwrap();
    assert_eq!(spec["parallelism"].as_u64(), Some(width));
    let pod = &spec["template"]["spec"];
    let container = &pod["containers"][0];
    let args: Vec<String> = container["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_owned())
        .collect();
    let at = args.iter().position(|a| a == "--segment-index").unwrap();
    assert_eq!(args[at + 1], format!("$(JOB_COMPLETION_INDEX)/{width}"));

    // run.env as the ConfigMap holds it, with a start a minute ahead (the file's date is an
    // example), and each pod's index: the kubelet's expansion, then prodlike's own parser.
    let run_map = all.iter().find(|o| o["kind"] == "ConfigMap").unwrap();
    let mut env: Vec<(String, String)> = run_map["data"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect();
    for key in ["TARGET_URL", "START_AT", "RUN_ID"] {
        assert!(env.iter().any(|(k, _)| k == key), "run.env has no {key}");
    }
    let soon = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 60;
    for (k, v) in &mut env {
        if k == "START_AT" {
            *v = soon.to_string();
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let mut whole: Vec<u64> = Vec::new();
    let mut summed: Vec<u64> = Vec::new();
    for index in 0..=width {
        let mut expanded: Vec<String> = args
            .iter()
            .map(|a| {
                let mut a = a.replace("$(JOB_COMPLETION_INDEX)", &index.to_string());
                for (k, v) in &env {
                    a = a.replace(&format!("$({k})"), v);
                }
                assert!(!a.contains("$("), "unexpanded: {a}");
                a
            })
            .collect();
        // The mounted folder is a temporary one here.
        let out = expanded.iter().position(|a| a == "--out").unwrap();
        let file = expanded[out + 1].replace("/results", dir.path().to_str().unwrap());
        expanded[out + 1] = file;
        expanded.extend([
            "--dry-run".to_owned(),
            "--format".to_owned(),
            "json".to_owned(),
        ]);
        // One more than the Job's pods: the same arguments without a segment, the whole plan.
        if index == width {
            let at = expanded
                .iter()
                .position(|a| a == "--segment-index")
                .unwrap();
            expanded.drain(at..at + 2);
        }
        let o = Command::new(env!("CARGO_BIN_EXE_prodlike"))
            .args(&expanded)
            .output()
            .unwrap();
        assert_eq!(
            o.status.code(),
            Some(0),
            "{expanded:?}: {}",
            prodlike_testkit::process::output_text(&o)
        );
        let plan: Value = serde_json::from_slice(&o.stdout).unwrap();
        let seconds: Vec<u64> = plan["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["scheduled"].as_u64().unwrap())
            .collect();
        if index == width {
            whole = seconds;
        } else {
            summed.resize(seconds.len().max(summed.len()), 0);
            for (s, n) in summed.iter_mut().zip(&seconds) {
                *s += n;
            }
        }
    }
    assert_eq!(summed, whole);
    assert!(whole.iter().sum::<u64>() > 0);

    // The merge Job reads the folder the segments write: the same claim and run subfolder.
    let merge = find(&all, "Job", "prodlike-load-merge");
    let merge_pod = &merge["spec"]["template"]["spec"];
    let merge_args = merge_pod["containers"][0]["args"].to_string();
    assert!(
        merge_args.contains("\"merge\"") && merge_args.contains("--wait"),
        "{merge_args}"
    );
    let mount = |pod: &Value| {
        let m = &pod["containers"][0]["volumeMounts"][0];
        let claim = pod["volumes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["name"] == m["name"])
            .unwrap()["persistentVolumeClaim"]["claimName"]
            .clone();
        (m["mountPath"].clone(), m["subPathExpr"].clone(), claim)
    };
    assert_eq!(mount(pod), mount(merge_pod));
    let (path, _, claim) = mount(pod);
    assert!(merge_args.contains(path.as_str().unwrap()), "{merge_args}");
    let pvc = find(&all, "PersistentVolumeClaim", claim.as_str().unwrap());
    assert_eq!(pvc["spec"]["accessModes"][0], "ReadWriteMany");
    // Neither Job retries: a late segment would be refused by --start-at anyway.
    assert_eq!(spec["backoffLimit"], 0);
    assert_eq!(merge["spec"]["backoffLimit"], 0);
}

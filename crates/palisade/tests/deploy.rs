//! The deployment packages under `deploy/`: the Helm chart renders in each TLS mode and refuses a bad one,
//! the kustomize base is exactly the chart rendered (one source), both pass Palisade's own configuration
//! checks, and the rendered webhook really serves: the Deployment's arguments, the bundle ConfigMap and the
//! certificate Secret are taken from the chart's output, `palisade admission serve` is started with them, and
//! a client that trusts only the webhook configuration's `caBundle` and connects by the Service's DNS name
//! (as the API server does) gets a privileged Pod refused and a plain one admitted. No API server runs here.
//!
//! Needs a helm binary (`.fixtures/bin/helm` from `.ci/helm.sh`, or `helm` on PATH), `kubectl` for the
//! kustomize render and `curl`; each test says so and skips when one is missing.

use base64::Engine as _;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn chart() -> PathBuf {
    repo().join("deploy/helm/palisade")
}

fn helm() -> Option<PathBuf> {
    let cached = repo().join(".fixtures/bin/helm");
    let found = if cached.is_file() {
        Some(cached)
    } else {
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
            .map(|d| d.join("helm"))
            .find(|p| p.is_file())
    };
    if found.is_none() {
        eprintln!("skipped: no helm binary (run .ci/helm.sh)");
    }
    found
}

fn have(tool: &str) -> bool {
    let ok = Command::new(tool).arg("version").arg("--client").output().is_ok()
        || Command::new(tool).arg("--version").output().is_ok();
    if !ok {
        eprintln!("skipped: {tool} is not installed");
    }
    ok
}

/// `helm template` with `--set` values: Ok(objects) or Err(helm's error text).
fn render(helm: &Path, sets: &[&str]) -> Result<Vec<Value>, String> {
    let mut cmd = Command::new(helm);
    cmd.args(["template", "rel"]).arg(chart()).args(["--namespace", "sec"]);
    for s in sets {
        cmd.args(["--set", s]);
    }
    let out = cmd.output().unwrap();
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    Ok(parse(&String::from_utf8(out.stdout).unwrap()))
}

fn parse(yaml: &str) -> Vec<Value> {
    serde_saphyr::from_multiple::<Value>(yaml).unwrap().into_iter().filter(|v| !v.is_null()).collect()
}

fn find<'a>(objects: &'a [Value], kind: &str) -> &'a Value {
    objects.iter().find(|o| o["kind"] == kind).unwrap_or_else(|| panic!("no {kind} rendered"))
}

fn kinds(objects: &[Value]) -> Vec<&str> {
    let mut k: Vec<&str> = objects.iter().filter_map(|o| o["kind"].as_str()).collect();
    k.sort();
    k
}

#[test]
fn chart_renders_in_every_tls_mode_and_refuses_a_bad_one() {
    let Some(helm) = helm() else { return };
    let lint = Command::new(&helm).arg("lint").arg(chart()).output().unwrap();
    assert!(lint.status.success(), "helm lint: {}", String::from_utf8_lossy(&lint.stdout));

    let own = render(&helm, &[]).unwrap();
    assert_eq!(
        kinds(&own),
        [
            "ConfigMap",
            "Deployment",
            "NetworkPolicy",
            "PodDisruptionBudget",
            "Secret",
            "Service",
            "ServiceAccount",
            "ValidatingWebhookConfiguration"
        ]
    );
    let webhook = &find(&own, "ValidatingWebhookConfiguration")["webhooks"][0];
    assert_eq!(webhook["failurePolicy"], "Fail");
    assert_eq!(webhook["clientConfig"]["caBundle"], find(&own, "Secret")["data"]["ca.crt"]);
    // The release namespace is never sent to the webhook, so it can always be repaired.
    let excluded = &webhook["namespaceSelector"]["matchExpressions"][0]["values"];
    assert_eq!(excluded, &json!(["sec", "kube-system"]));

    let cm = render(&helm, &["admission.tls.mode=cert-manager"]).unwrap();
    assert!(kinds(&cm).contains(&"Certificate") && kinds(&cm).contains(&"Issuer"));
    let vwc = find(&cm, "ValidatingWebhookConfiguration");
    assert_eq!(
        vwc["metadata"]["annotations"]["cert-manager.io/inject-ca-from"],
        "sec/rel-palisade-admission"
    );

    let missing = render(&helm, &["admission.tls.mode=secret"]).unwrap_err();
    assert!(missing.contains("is required with admission.tls.mode=secret"), "{missing}");
    let own_secret = render(
        &helm,
        &["admission.tls.mode=secret", "admission.tls.existingSecret=mine", "admission.tls.caBundle=Q0E="],
    )
    .unwrap();
    assert!(!kinds(&own_secret).contains(&"Secret"));
    assert_eq!(
        find(&own_secret, "Deployment")["spec"]["template"]["spec"]["volumes"][1]["secret"]["secretName"],
        "mine"
    );
    let bad = render(&helm, &["admission.tls.mode=vault"]).unwrap_err();
    assert!(bad.contains("admission.tls.mode must be helm, cert-manager or secret"), "{bad}");

    // Excluded users and groups never reach the webhook: the API server filters them with matchConditions.
    assert!(webhook.get("matchConditions").is_none());
    let excluded =
        render(&helm, &["admission.excludeUsers={alice,bob}", "admission.excludeGroups={ops}"]).unwrap();
    let conditions = &find(&excluded, "ValidatingWebhookConfiguration")["webhooks"][0]["matchConditions"];
    assert_eq!(conditions[0]["expression"], r#"!(request.userInfo.username in ["alice","bob"])"#);
    assert_eq!(conditions[1]["expression"], r#"!request.userInfo.groups.exists(g, g in ["ops"])"#);
    let args = &find(&excluded, "Deployment")["spec"]["template"]["spec"]["containers"][0]["args"];
    assert!(args.as_array().unwrap().iter().any(|a| a == "--exclude-user=alice,bob"));

    // Image facts and digest pinning: arguments, volumes, the mutating webhook, egress to registries.
    let facts = render(
        &helm,
        &[
            "admission.pinDigests=true",
            "admission.imageFacts.enabled=true",
            "admission.imageFacts.scanImages=true",
            "admission.imageFacts.unknownImage=deny",
            "admission.imageFacts.dbVolume.persistentVolumeClaim.claimName=vulndb",
            "admission.imageFacts.reportsVolume.persistentVolumeClaim.claimName=reports",
        ],
    )
    .unwrap();
    let args = &find(&facts, "Deployment")["spec"]["template"]["spec"]["containers"][0]["args"];
    for arg in [
        "--image-reports=/var/lib/palisade/reports",
        "--scan-images",
        "--unknown-image=deny",
        "--pin-digests",
    ] {
        assert!(args.as_array().unwrap().iter().any(|a| a == arg), "{arg} missing: {args}");
    }
    let mutating = &find(&facts, "MutatingWebhookConfiguration")["webhooks"][0];
    assert_eq!(mutating["clientConfig"]["service"]["path"], "/mutate");
    assert_eq!(mutating["failurePolicy"], "Ignore");
    assert_eq!(find(&facts, "NetworkPolicy")["spec"]["egress"], json!([{}]));
    assert_eq!(find(&own, "NetworkPolicy")["spec"]["egress"], json!([]));
    let no_db = render(&helm, &["admission.imageFacts.enabled=true", "admission.imageFacts.scanImages=true"]);
    assert!(no_db.unwrap_err().contains("dbVolume (a volume holding vuln.db) is required"));

    // The runtime agent: a DaemonSet whose every flag the binary knows, privileges annotated with reasons.
    // `palisade watch`: off by default; on, a Deployment of its replicas reading the store URL from a Secret,
    // and a clear refusal without registries or store.
    assert!(
        !render(&helm, &[])
            .unwrap()
            .iter()
            .any(|o| o["metadata"]["name"].as_str().is_some_and(|n| n.ends_with("-watch")))
    );
    let watch = render(
        &helm,
        &[
            "watch.enabled=true",
            "watch.registries={r.internal:5000,r2:5000/team}",
            "watch.store.existingSecret=pg",
            "watch.replicas=3",
        ],
    )
    .unwrap();
    let dep = watch
        .iter()
        .find(|o| {
            o["kind"] == "Deployment" && o["metadata"]["name"].as_str().is_some_and(|n| n.ends_with("-watch"))
        })
        .expect("watch Deployment");
    assert_eq!(dep["spec"]["replicas"], 3);
    let c = &dep["spec"]["template"]["spec"]["containers"][0];
    let args: Vec<&str> = c["args"].as_array().unwrap().iter().filter_map(|a| a.as_str()).collect();
    assert_eq!(args.first(), Some(&"watch"), "{args:?}");
    // The registries come from the ConfigMap, through the variable `watch --registry` reads.
    let config = watch
        .iter()
        .find(|o| o["kind"] == "ConfigMap" && o["metadata"]["name"] == dep["metadata"]["name"])
        .expect("watch ConfigMap");
    assert_eq!(config["data"]["registries"], "r.internal:5000,r2:5000/team");
    let registries = c["env"].as_array().unwrap().iter().find(|e| e["name"] == "PALISADE_WATCH_REGISTRIES");
    assert_eq!(
        registries.expect("registries env")["valueFrom"]["configMapKeyRef"]["name"],
        config["metadata"]["name"]
    );
    let store =
        c["env"].as_array().unwrap().iter().find(|e| e["name"] == "PALISADE_STORE").expect("store env");
    assert_eq!(store["valueFrom"]["secretKeyRef"]["name"], "pg");
    assert!(watch.iter().any(|o| o["kind"] == "Service" && o["spec"]["ports"][0]["port"] == 8080));
    let no_store = render(&helm, &["watch.enabled=true", "watch.registries={r:5000}"]).unwrap_err();
    assert!(no_store.contains("watch.store.existingSecret"), "{no_store}");
    let no_registry = render(&helm, &["watch.enabled=true", "watch.store.existingSecret=pg"]).unwrap_err();
    assert!(no_registry.contains("watch.registries"), "{no_registry}");
    // SQLite: one replica on its own claim; several replicas are refused (each would keep its own store).
    let sqlite = ["watch.enabled=true", "watch.registries={r:5000}", "watch.store.type=sqlite"];
    let many = render(&helm, &sqlite).unwrap_err();
    assert!(
        many.contains("watch.replicas=2 with watch.store.type=sqlite") && many.contains("PostgreSQL"),
        "{many}"
    );
    let one = render(&helm, &[&sqlite[..], &["watch.replicas=1"]].concat()).unwrap();
    let claim = find(&one, "PersistentVolumeClaim");
    assert_eq!(claim["spec"]["accessModes"][0], "ReadWriteOncePod", "{claim:#}");
    let dep = one
        .iter()
        .find(|o| {
            o["kind"] == "Deployment" && o["metadata"]["labels"]["app.kubernetes.io/component"] == "watch"
        })
        .expect("watch Deployment");
    assert_eq!(
        (&dep["spec"]["replicas"], &dep["spec"]["strategy"]["type"]),
        (&Value::from(1), &Value::from("Recreate"))
    );
    let pod = &dep["spec"]["template"]["spec"];
    let env = pod["containers"][0]["env"].as_array().unwrap();
    let store = env.iter().find(|e| e["name"] == "PALISADE_STORE").expect("store env");
    assert_eq!(store["value"], "/var/lib/palisade/palisade-store.db");
    assert!(
        pod["volumes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"])
    );
    let bad = render(&helm, &["watch.enabled=true", "watch.registries={r:5000}", "watch.store.type=mysql"])
        .unwrap_err();
    assert!(bad.contains("watch.store.type must be postgres or sqlite"), "{bad}");
    assert!(!kinds(&watch).contains(&"PersistentVolumeClaim"), "PostgreSQL needs no claim");

    let runtime = render(&helm, &["runtime.enabled=true", "runtime.rulesConfigMap=falco-rules"]).unwrap();
    let ds = find(&runtime, "DaemonSet");
    assert_eq!(ds["spec"]["template"]["spec"]["hostPID"], true);
    let help =
        Command::new(env!("CARGO_BIN_EXE_palisade")).args(["runtime", "agent", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout).into_owned();
    for arg in ds["spec"]["template"]["spec"]["containers"][0]["args"].as_array().unwrap().iter().skip(2) {
        let flag = arg.as_str().unwrap().split('=').next().unwrap();
        assert!(help.contains(flag), "{flag} is not a flag of `runtime agent`");
    }
    assert!(ds["metadata"]["annotations"]["palisade.io/ignore"].as_str().unwrap().contains("PAL-PSS-001: "));
    assert!(!kinds(&own).contains(&"DaemonSet"), "the agent is off by default");

    let pinned = render(&helm, &["image.digest=sha256:abc"]).unwrap();
    let image = &find(&pinned, "Deployment")["spec"]["template"]["spec"]["containers"][0]["image"];
    assert_eq!(image, "ghcr.io/palisade-dev/palisade@sha256:abc");
}

#[test]
fn kustomize_base_is_the_chart_rendered_and_builds() {
    let Some(helm) = helm() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let fresh = tmp.path().join("palisade.yaml");
    let components = tmp.path().join("components");
    let status = Command::new(repo().join("deploy/render-kustomize.sh"))
        .arg(&helm)
        .env("OUT", &fresh)
        .env("COMPONENTS", &components)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    for (committed, fresh) in [
        ("base/palisade.yaml", fresh.clone()),
        ("components/watch/watch.yaml", components.join("watch/watch.yaml")),
        ("components/watch-sqlite/watch-sqlite.yaml", components.join("watch-sqlite/watch-sqlite.yaml")),
        ("components/runtime/runtime.yaml", components.join("runtime/runtime.yaml")),
    ] {
        let text = std::fs::read_to_string(repo().join("deploy/kustomize").join(committed)).unwrap();
        assert!(
            text == std::fs::read_to_string(&fresh).unwrap(),
            "deploy/kustomize/{committed} is stale: run deploy/render-kustomize.sh and commit it"
        );
    }
    if !have("kubectl") {
        return;
    }
    let out =
        Command::new("kubectl").arg("kustomize").arg(repo().join("deploy/kustomize/base")).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let objects = parse(&String::from_utf8(out.stdout).unwrap());
    assert!(kinds(&objects).contains(&"Namespace"));
    assert!(
        objects
            .iter()
            .filter(|o| o["kind"] != "Namespace" && o["kind"] != "ValidatingWebhookConfiguration")
            .all(|o| o["metadata"]["namespace"] == "palisade")
    );
}

/// The overlays build on the base, change what they say they change, and keep our own checks clean.
#[test]
fn kustomize_overlays_build_and_pass_our_checks() {
    if !have("kubectl") {
        return;
    }
    let build = |overlay: &str| {
        let out = Command::new("kubectl")
            .arg("kustomize")
            .arg(repo().join("deploy/kustomize/overlays").join(overlay))
            .output()
            .unwrap();
        assert!(out.status.success(), "{overlay}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let fail_open = build("fail-open");
    let objects = parse(&fail_open);
    let hook = objects.iter().find(|o| o["kind"] == "ValidatingWebhookConfiguration").unwrap();
    assert_eq!(hook["webhooks"][0]["failurePolicy"], "Ignore");
    let deployment = objects.iter().find(|o| o["kind"] == "Deployment").unwrap();
    let args: Vec<&str> = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    // The patch replaces the argument by position: the chart moving it must fail here, not in a cluster.
    assert!(args.contains(&"--on-error=allow") && !args.contains(&"--on-error=deny"), "{args:?}");
    assert!(args.contains(&"--listen=0.0.0.0:8443") && args.contains(&"--budget=1500ms"), "{args:?}");

    let production = build("production");
    let objects = parse(&production);
    let deployment = objects.iter().find(|o| o["kind"] == "Deployment").unwrap();
    assert_eq!(deployment["spec"]["replicas"], 3);
    let pdb = objects.iter().find(|o| o["kind"] == "PodDisruptionBudget").unwrap();
    assert_eq!(pdb["spec"]["minAvailable"], 2);

    // The team overlay adds watch (registries patched into its ConfigMap) and the runtime agent.
    let team = build("team");
    let objects = parse(&team);
    let watch = objects
        .iter()
        .find(|o| o["kind"] == "Deployment" && o["metadata"]["name"] == "palisade-watch")
        .expect("watch Deployment");
    assert_eq!(watch["metadata"]["namespace"], "palisade");
    let config =
        objects.iter().find(|o| o["kind"] == "ConfigMap" && o["metadata"]["name"] == "palisade-watch");
    assert_eq!(
        config.expect("watch ConfigMap")["data"]["registries"],
        "registry.internal:5000,registry.internal:5000/team/app"
    );
    assert!(kinds(&objects).contains(&"DaemonSet"), "{:?}", kinds(&objects));

    // watch on SQLite (overlays/single): one replica, on a claim only one pod may use.
    let single = build("single");
    let objects = parse(&single);
    let watch = |objects: &[Value]| {
        objects
            .iter()
            .find(|o| o["kind"] == "Deployment" && o["metadata"]["name"] == "palisade-watch")
            .expect("watch Deployment")
            .clone()
    };
    let w = watch(&objects);
    assert_eq!(
        (&w["spec"]["replicas"], &w["spec"]["strategy"]["type"]),
        (&Value::from(1), &Value::from("Recreate"))
    );
    let claim = objects.iter().find(|o| o["kind"] == "PersistentVolumeClaim").expect("store claim");
    assert_eq!(claim["spec"]["accessModes"], serde_json::json!(["ReadWriteOncePod"]));
    let volumes = w["spec"]["template"]["spec"]["volumes"].as_array().unwrap();
    assert!(volumes.iter().any(|v| v["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]));
    // kustomize has no way to refuse a patch raising the replicas: the claim still allows one pod only
    // (Kubernetes leaves the others Pending), which is what the component relies on.
    let copy = tempfile::tempdir().unwrap();
    let status =
        Command::new("cp").arg("-r").arg(repo().join("deploy/kustomize")).arg(copy.path()).status().unwrap();
    assert!(status.success());
    let scaled = copy.path().join("kustomize/overlays/scaled");
    std::fs::create_dir_all(&scaled).unwrap();
    std::fs::write(
        scaled.join("kustomization.yaml"),
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ../single\nreplicas:\n  - name: palisade-watch\n    count: 3\n",
    )
    .unwrap();
    let out = Command::new("kubectl").arg("kustomize").arg(&scaled).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let objects = parse(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(watch(&objects)["spec"]["replicas"], 3);
    let claim = objects.iter().find(|o| o["kind"] == "PersistentVolumeClaim").expect("store claim");
    assert_eq!(claim["spec"]["accessModes"], serde_json::json!(["ReadWriteOncePod"]));

    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("fail-open.yaml"), fail_open).unwrap();
    std::fs::write(tmp.path().join("production.yaml"), production).unwrap();
    std::fs::write(tmp.path().join("team.yaml"), team).unwrap();
    std::fs::write(tmp.path().join("single.yaml"), single).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["scan", "config", "--checks", "pss:restricted,rbac", "--exit-code", "1", "--format", "json"])
        .arg(tmp.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "findings on the overlays: {}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn packages_pass_palisade_own_checks() {
    let Some(helm) = helm() else { return };
    let tmp = tempfile::tempdir().unwrap();
    // Secret mode: no generated Secret, whose literal data the secret-in-manifest check rightly flags.
    let out = Command::new(&helm)
        .args(["template", "rel"])
        .arg(chart())
        .args([
            "--set",
            "admission.tls.mode=secret,admission.tls.existingSecret=tls,admission.tls.caBundle=Q0E=",
        ])
        // With the runtime agent: its privileges are annotated with their reasons, so nothing remains.
        .args(["--set", "runtime.enabled=true"])
        // With `palisade watch`.
        .args([
            "--set",
            "watch.enabled=true,watch.registries={r.internal:5000},watch.store.existingSecret=pg",
        ])
        .output()
        .unwrap();
    std::fs::write(tmp.path().join("chart.yaml"), &out.stdout).unwrap();
    std::fs::copy(repo().join("deploy/kustomize/base/palisade.yaml"), tmp.path().join("kustomize.yaml"))
        .unwrap();
    let scan = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args([
            "scan",
            "config",
            "--severity",
            "MEDIUM,HIGH,CRITICAL",
            "--exit-code",
            "1",
            "--format",
            "json",
        ])
        .arg(tmp.path())
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&scan.stdout).unwrap();
    assert!(scan.status.success(), "findings on our own packages: {report:#}");

    // The chart directory as users scan it (Palisade renders it with helm): nothing at all at
    // Pod Security `restricted` or in the RBAC checks.
    let scan_deploy = |checks: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_palisade"))
            .args(["scan", "config", "--checks", checks, "--exit-code", "1", "--format", "json", "--helm"])
            .arg(&helm)
            .arg(repo().join("deploy"))
            .output()
            .unwrap();
        (out.status.success(), serde_json::from_slice::<Value>(&out.stdout).unwrap())
    };
    let (clean, report) = scan_deploy("pss:restricted,rbac");
    assert!(clean, "pss:restricted findings on our own packages: {report:#}");
    // ... and the templates were rendered and judged: a check we knowingly do not satisfy (no CPU limit).
    let (clean, report) = scan_deploy("PAL-K8S-046");
    assert!(!clean && report.to_string().contains("templates/admission-deployment.yaml"), "{report:#}");
}

/// The webhook as the chart deploys it: same arguments, same bundle, same certificate.
#[test]
fn the_rendered_webhook_serves_with_the_rendered_certificate_and_bundle() {
    let Some(helm) = helm() else { return };
    if !have("curl") {
        return;
    }
    let objects = render(&helm, &["admission.pinDigests=true"]).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let etc = tmp.path().join("etc/palisade");
    let b64 = base64::engine::general_purpose::STANDARD;

    let bundle = etc.join("bundle");
    std::fs::create_dir_all(&bundle).unwrap();
    for (name, text) in find(&objects, "ConfigMap")["data"].as_object().unwrap() {
        std::fs::write(bundle.join(name), text.as_str().unwrap()).unwrap();
    }
    let tls = etc.join("tls");
    std::fs::create_dir_all(&tls).unwrap();
    for (name, data) in find(&objects, "Secret")["data"].as_object().unwrap() {
        std::fs::write(tls.join(name), b64.decode(data.as_str().unwrap()).unwrap()).unwrap();
    }
    let webhook = &find(&objects, "ValidatingWebhookConfiguration")["webhooks"][0]["clientConfig"];
    let ca = tmp.path().join("api-server-trusts.crt");
    std::fs::write(&ca, b64.decode(webhook["caBundle"].as_str().unwrap()).unwrap()).unwrap();
    let host = format!("{}.{}.svc", webhook["service"]["name"].as_str().unwrap(), "sec");

    let container = &find(&objects, "Deployment")["spec"]["template"]["spec"]["containers"][0];
    let args: Vec<String> = container["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let a = a.as_str().unwrap().replace("/etc/palisade", etc.to_str().unwrap());
            let a = a.replace("/var/", &format!("{}/var/", tmp.path().display()));
            if a.starts_with("--listen=") { "--listen=127.0.0.1:0".into() } else { a }
        })
        .collect();
    let mut child = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(&args)
        .env("POD_NAMESPACE", "sec")
        .env("PALISADE_CACHE_DIR", tmp.path().join("var/cache/palisade"))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let stdout = child.stdout.take().unwrap();
    let _guard = Kill(child);
    let port: u16 = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find_map(|l| {
            l.strip_prefix("listening on https://").map(|a| a.rsplit(':').next().unwrap().parse().unwrap())
        })
        .expect("the webhook did not start with the chart's arguments");

    let call = |path: &str, pod: Value| -> Value {
        let body = json!({
            "apiVersion": "admission.k8s.io/v1",
            "kind": "AdmissionReview",
            "request": {
                "uid": "0b7c8a3e-2b1f-4c2d-9a57-3f1c2b6d8e90",
                "kind": {"group": "", "version": "v1", "kind": "Pod"},
                "resource": {"group": "", "version": "v1", "resource": "pods"},
                "namespace": "team-a", "name": pod["metadata"]["name"], "operation": "CREATE",
                "userInfo": {"username": "dev"}, "object": pod
            }
        });
        let file = tmp.path().join("review.json");
        std::fs::write(&file, serde_json::to_vec(&body).unwrap()).unwrap();
        let out = Command::new("curl")
            .args(["-s", "--fail", "--max-time", "10", "--cacert"])
            .arg(&ca)
            .arg("--resolve")
            .arg(format!("{host}:{port}:127.0.0.1"))
            .args(["-H", "Content-Type: application/json", "--data-binary"])
            .arg(format!("@{}", file.display()))
            .arg(format!("https://{host}:{port}{path}"))
            .output()
            .unwrap();
        assert!(out.status.success(), "curl: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let post = |pod: Value| -> Value { call(webhook["service"]["path"].as_str().unwrap(), pod) };
    let privileged = post(json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "team-a"},
        "spec": {"containers": [{"name": "c", "image": "busybox:1.36", "securityContext": {"privileged": true}}]}
    }));
    assert_eq!(privileged["response"]["allowed"], false, "{privileged:#}");
    assert!(
        privileged["response"]["status"]["message"].as_str().unwrap().contains("no-privileged-containers")
    );
    let plain = post(json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "q", "namespace": "team-a"},
        "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]}
    }));
    assert_eq!(plain["response"]["allowed"], true, "{plain:#}");
    // The mutating webhook's path answers too: an image already pinned needs no patch.
    let mutate_path =
        find(&objects, "MutatingWebhookConfiguration")["webhooks"][0]["clientConfig"]["service"]["path"]
            .as_str()
            .unwrap()
            .to_string();
    let pinned = call(
        &mutate_path,
        json!({
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "r", "namespace": "team-a"},
            "spec": {"containers": [{"name": "c", "image": format!("busybox@sha256:{}", "a".repeat(64))}]}
        }),
    );
    assert_eq!(pinned["response"]["allowed"], true, "{pinned:#}");
    assert!(pinned["response"].get("patch").is_none(), "{pinned:#}");
}

#![allow(clippy::unwrap_used, clippy::expect_used)]
use prodlike_net::{ClientTlsOptions, client_config, server_config};

#[test]
fn server_and_client_configs_load_from_generated_pem_files() {
    let dir = tempfile::tempdir().unwrap();
    let cert =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    let cert_path = dir.path().join("cert.pem");
    let key_path = dir.path().join("key.pem");
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).unwrap();

    let server = server_config(&cert_path, &key_path, &[b"h2", b"http/1.1"]).unwrap();
    assert_eq!(
        server.alpn_protocols,
        vec![b"h2".to_vec(), b"http/1.1".to_vec()]
    );
    client_config(&ClientTlsOptions {
        ca_file: Some(cert_path.clone()),
    })
    .unwrap();
}

#[test]
fn bad_files_name_the_file_and_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "not a pem").unwrap();
    let err = client_config(&ClientTlsOptions {
        ca_file: Some(empty.clone()),
    })
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("empty.pem") && err.contains("no PEM certificate"),
        "{err}"
    );
    let missing = dir.path().join("missing.pem");
    let err = server_config(&missing, &missing, &[])
        .unwrap_err()
        .to_string();
    assert!(err.contains("missing.pem"), "{err}");
}

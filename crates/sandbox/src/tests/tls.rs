use std::sync::Arc;

use bytes::Bytes;
use http::{Method, StatusCode, Version};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use tokio::net::{TcpListener, TcpStream};

use super::{authed, TOKEN};
use crate::customer_gen::FIXTURE_DETAIL;
use crate::{Sandbox, SandboxConfig, FIXTURE_CUSTOMER_ID};

#[tokio::test]
async fn tls_with_alpn_h2() {
    let rcgen::CertifiedKey { cert, signing_key } =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("certificate");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("protocols")
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(signing_key.serialize_der())),
        )
        .expect("server config");
    let cfg = SandboxConfig {
        tls: Some(Arc::new(server)),
        ..SandboxConfig::demo()
    };
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let sb = Sandbox::start(listener, cfg).await.expect("start");
    let port = sb.local_addr().port();
    assert_eq!(sb.base_url(), format!("https://localhost:{port}"));

    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.der().clone()).expect("root");
    let mut client = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocols")
        .with_root_certificates(roots)
        .with_no_client_auth();
    client.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let tcp = TcpStream::connect(sb.local_addr()).await.expect("connect");
    let tls = tokio_rustls::TlsConnector::from(Arc::new(client))
        .connect(ServerName::try_from("localhost").expect("name"), tcp)
        .await
        .expect("TLS handshake");
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));

    let (mut sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tls))
            .await
            .expect("h2 handshake");
    tokio::spawn(connection);
    let request = authed(
        &sb,
        Method::GET,
        &format!("/api/v1/customer/customer/{FIXTURE_CUSTOMER_ID}"),
        b"",
    )
    .body(Full::<Bytes>::default())
    .expect("req");
    assert_eq!(request.headers()["x-token"], TOKEN);
    let response = sender.send_request(request).await.expect("response");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.version(), Version::HTTP_2);
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    assert_eq!(body, FIXTURE_DETAIL.as_bytes());
    sb.shutdown().await;
}

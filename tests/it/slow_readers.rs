//! Slow and stalled readers cannot hold capacity other clients need: an
//! upstream slot is free once paycombat has sent the answer (passthrough
//! bodies wait in bounded buffers: memory, then an unlinked spool file), and
//! each client holds at most its share of the slots.

use std::path::Path;
use std::time::{Duration, Instant};

use http::Method;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::common::process::rss_of;
use crate::common::*;

const HOG_KEY: &str = "hog-client-key";
const CALM_KEY: &str = "calm-client-key";

fn two_clients() -> String {
    use clients::ClientEntry;
    clients::clients_file(&[
        ClientEntry::new("hog").key(HOG_KEY).allow_all(),
        ClientEntry::new("calm").key(CALM_KEY).allow_all(),
    ])
}

/// Resident memory of this process (the gateway runs in it), from /proc.
fn rss_bytes() -> u64 {
    rss_of("self")
}

/// Files this process has open in `dir` (spool files have no name, so the
/// descriptor is the only way to see them) and the bytes they hold on disk.
fn open_files_in(dir: &Path) -> (usize, u64) {
    open_files_of("self", dir)
}

/// The same for process `pid`.
fn open_files_of(pid: &str, dir: &Path) -> (usize, u64) {
    let dir = dir.display().to_string();
    let mut files = 0;
    let mut bytes = 0;
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd"));
    for fd in fds.into_iter().flatten().flatten() {
        let Ok(target) = std::fs::read_link(fd.path()) else {
            continue;
        };
        if target.display().to_string().starts_with(&dir) {
            files += 1;
            if let Ok(m) = std::fs::metadata(fd.path()) {
                use std::os::unix::fs::MetadataExt;
                bytes += m.blocks() * 512;
            }
        }
    }
    (files, bytes)
}

/// Sends a GET over h2c prior knowledge and never reads the answer: after
/// the SETTINGS exchange nothing is read and no WINDOW_UPDATE is sent, so
/// at most the 64 KiB initial window of the body can leave the gateway (an
/// HTTP/1.1 client's kernel would absorb up to `tcp_wmem`'s 4 MiB and let
/// a memo-sized body finish).
async fn never_reading(app: &TestApp, path: &str, key: &str) -> TcpStream {
    let mut s = h2::connect(app.addr).await;
    s.write_all(&h2::get_headers(1, path, &[("x-token", key)]))
        .await
        .unwrap();
    s
}

fn gauge(scrape: &str, name: &str) -> f64 {
    value(scrape, name, &[])
}

const CLIENTS: usize = 256;
const PDF_BYTES: u64 = 512 * 1024;
const MEMORY_PER_RESPONSE: u64 = 64 * 1024;
const SPOOL_PER_RESPONSE: u64 = 1024 * 1024;
const SPOOL_TOTAL: u64 = 512 * 1024 * 1024;
const MAX_BUFFERED: u64 = 128 * 1024 * 1024;

#[tokio::test]
async fn never_reading_pdf_clients_hold_no_upstream_slots_and_starve_no_one() {
    let _alone = memory_measurement().await;
    let app = spawn_app_with(Options {
        clients_toml: Some(two_clients()),
        overlay: format!(
            "[server]\nresponse_write_timeout = \"60s\"\n\
             [upstream]\nmax_concurrent_requests = 256\ntimeout = \"20s\"\n\
             [upstream.buffering]\nmemory_per_response = {MEMORY_PER_RESPONSE}\n\
             spool_per_response = {SPOOL_PER_RESPONSE}\nspool_total = {SPOOL_TOTAL}\n\
             [upstream.per_client]\nslot_share = 1.0\nbuffer_share = 1.0\n"
        ),
        ..Options::default()
    })
    .await;
    let spool_dir = app.path("spool");
    let rss_before = rss_bytes();
    let started = Instant::now();
    let mut held = Vec::with_capacity(CLIENTS);
    for n in 0..CLIENTS {
        let path = format!("/api/v1/payin/memo/slow-{n}?size={PDF_BYTES}");
        held.push(never_reading(&app, &path, HOG_KEY).await);
    }
    // paycombat answered every one of them...
    assert!(
        eventually(Duration::from_secs(30), || async {
            app.state().request_count("payin_memo") >= CLIENTS as u64
        })
        .await,
        "{:?}",
        app.state().request_counts()
    );
    // ...and once it has sent them, no slot is held, though no client read.
    let peak_rss = std::cell::Cell::new(0u64);
    let peak_spool = std::cell::Cell::new((0usize, 0u64));
    let watch = || {
        peak_rss.set(peak_rss.get().max(rss_bytes()));
        let (files, bytes) = open_files_in(&spool_dir);
        let (f0, b0) = peak_spool.get();
        peak_spool.set((f0.max(files), b0.max(bytes)));
    };
    assert!(
        eventually(Duration::from_secs(30), || async {
            watch();
            let s = app.metrics().await;
            gauge(&s, "gateway_upstream_slots_in_use") == 0.0
                && gauge(&s, "gateway_spool_files") >= 1.0
        })
        .await,
        "{}",
        app.metrics().await
    );
    watch();
    let scrape = app.metrics().await;
    let spool_bytes = gauge(&scrape, "gateway_spool_bytes");
    let buffered = gauge(&scrape, "gateway_response_buffer_bytes");
    let files = gauge(&scrape, "gateway_spool_files");
    assert!(
        spool_bytes > 0.0,
        "the stalled bodies were spooled: {scrape}"
    );
    assert!(spool_bytes <= SPOOL_TOTAL as f64);
    assert!(spool_bytes <= (CLIENTS as u64 * SPOOL_PER_RESPONSE) as f64);
    assert!(buffered <= MAX_BUFFERED as f64, "{buffered}");
    assert!(files <= CLIENTS as f64);
    // The spool holds personal data under no name: nothing is listed.
    assert_eq!(std::fs::read_dir(&spool_dir).unwrap().count(), 0);
    let (open, on_disk) = open_files_in(&spool_dir);
    assert!(open >= 1, "spool files are open, unlinked");
    assert!(on_disk <= SPOOL_TOTAL, "{on_disk} bytes on disk");

    // Another client's JSON reads are all answered.
    for n in 0..20 {
        let r = app
            .send(
                Method::GET,
                &format!("/api/v1/customer/customer/{}", customer_id(9000 + n)),
                &[("x-token", CALM_KEY)],
                b"",
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
    }
    watch();
    let rss_peak = peak_rss.get();
    let peak_spool = peak_spool.get();
    println!(
        "slow-reader: {CLIENTS} clients x {PDF_BYTES} B PDFs in {:?}; RSS {} MiB -> {} MiB (+{} MiB); \
         buffered {} KiB; spool gauge {} KiB in {files} files; on disk (fstat blocks) {} KiB in {open} files, peak {} KiB in {} files",
        started.elapsed(),
        rss_before >> 20,
        rss_peak >> 20,
        rss_peak.saturating_sub(rss_before) >> 20,
        buffered as u64 >> 10,
        spool_bytes as u64 >> 10,
        on_disk >> 10,
        peak_spool.1 >> 10,
        peak_spool.0,
    );
    // Memory: the bodies' buffers stay under their bound (checked above:
    // `gateway_response_buffer_bytes`). The process as a whole — the sandbox
    // generating 256 bodies, its and the gateway's connection buffers, and
    // the 256 clients, all of which run here — stays under a loose bound;
    // docs/benchmarks.md reports the numbers.
    let grown = rss_peak.saturating_sub(rss_before);
    assert!(grown < 160 * 1024 * 1024, "RSS grew by {} MiB", grown >> 20);

    // The clients go away: every buffer and spool file is given back.
    drop(held);
    assert!(
        eventually(Duration::from_secs(10), || async {
            let s = app.metrics().await;
            gauge(&s, "gateway_spool_bytes") == 0.0
                && gauge(&s, "gateway_spool_files") == 0.0
                && gauge(&s, "gateway_response_buffer_bytes") == 0.0
        })
        .await,
        "{}",
        app.metrics().await
    );
    assert_eq!(open_files_in(&spool_dir), (0, 0));
    assert_eq!(std::fs::read_dir(&spool_dir).unwrap().count(), 0);
    app.stop().await;
}

/// A slow reader still receives the whole body, byte for byte, from the
/// spool: buffering changes who waits, not what arrives.
#[tokio::test]
async fn a_spooled_body_arrives_whole() {
    let _alone = memory_measurement().await;
    let app = spawn_app_overlay(
        "[upstream.buffering]\nmemory_per_response = 16384\nspool_per_response = 8388608\n",
    )
    .await;
    let direct = paycombat_sandbox_memo(&app, 3_000_000).await;
    let via = app.get("/api/v1/payin/memo/whole?size=3000000").await;
    assert_eq!(via.status, 200);
    assert_eq!(via.body.len(), 3_000_000);
    assert_eq!(via.body, direct);
    app.stop().await;
}

async fn paycombat_sandbox_memo(app: &TestApp, size: u64) -> bytes::Bytes {
    let r = request(
        &app.client,
        Method::GET,
        &format!(
            "{}/api/v1/payin/memo/whole?size={size}",
            app.sandbox.base_url()
        ),
        &[("x-token", &app.sandbox_cfg.token)],
        b"",
    )
    .await;
    assert_eq!(r.status, 200);
    r.body
}

#[tokio::test]
async fn a_client_over_its_slot_share_gets_its_own_503s_and_others_are_unaffected() {
    let app = spawn_app_with(Options {
        clients_toml: Some(two_clients()),
        overlay:
            "[upstream]\nmax_concurrent_requests = 8\n[upstream.per_client]\nslot_share = 0.5\n"
                .to_owned(),
        ..Options::default()
    })
    .await;
    let slow = |key: &'static str, n: usize| {
        let client = app.client.clone();
        let url = format!("http://{}/api/v1/anything/slow-{key}-{n}", app.addr);
        tokio::spawn(async move {
            request(
                &client,
                Method::GET,
                &url,
                &[("x-token", key), ("x-sandbox-fault", "delay=1500ms")],
                b"",
            )
            .await
        })
    };
    // The hog takes its share: 4 of the 8 slots, held while paycombat is slow.
    let hogging: Vec<_> = (0..4).map(|n| slow(HOG_KEY, n)).collect();
    assert!(
        eventually(Duration::from_secs(5), || async {
            gauge(&app.metrics().await, "gateway_upstream_slots_in_use") == 4.0
        })
        .await
    );
    // Its next requests are refused at once, with its own code...
    for n in 4..8 {
        let r = slow(HOG_KEY, n).await.unwrap();
        assert_eq!(r.status, 503, "{}", r.text());
        assert_eq!(r.error_code(), "CLIENT_CAPACITY_EXCEEDED");
        assert_eq!(r.header("retry-after"), "1");
    }
    // ...while the other client still has the rest of the slots.
    let calm: Vec<_> = (0..4).map(|n| slow(CALM_KEY, n)).collect();
    for r in calm {
        let r = r.await.unwrap();
        assert_eq!(r.status, 200, "{}", r.text());
    }
    for r in hogging {
        assert_eq!(r.await.unwrap().status, 200);
    }
    let s = app.metrics().await;
    let refused = |client: &str| {
        sample(
            &s,
            "gateway_client_capacity_refusals_total",
            &[("client", client), ("resource", "upstream_slots")],
        )
    };
    assert_eq!(refused("hog"), Some(4.0), "{s}");
    // Never refused: no such series.
    assert_eq!(refused("calm"), None, "{s}");
    assert_eq!(
        sample(
            &s,
            "gateway_requests_total",
            &[("client", "calm"), ("status_class", "5xx")]
        ),
        None,
        "calm never got a 5xx"
    );
    assert_eq!(gauge(&s, "gateway_upstream_slots_in_use"), 0.0);
    app.stop().await;
}

/// With the spool off and the memory bound spent, a body waits for its
/// client with its slot held — but never past `upstream.timeout`: then it is
/// cut off and the slot is free, though the client's connection would still
/// be allowed to stall for a minute.
#[tokio::test]
async fn a_body_waiting_for_room_gives_its_slot_back_after_the_upstream_timeout() {
    let app = spawn_app_overlay(
        "[server]\nresponse_write_timeout = \"60s\"\n[upstream]\ntimeout = \"2s\"\n\
         [upstream.buffering]\nmemory_per_response = 65536\nspool_per_response = 0\nspool_total = 0\n",
    )
    .await;
    let s = never_reading(&app, "/api/v1/payin/memo/parked?size=4000000", CLIENT_KEY).await;
    assert!(app.upstream_received(1).await);
    // Held: the body cannot move until the client reads.
    let scrape = app.metrics().await;
    assert_eq!(
        gauge(&scrape, "gateway_upstream_slots_in_use"),
        1.0,
        "{scrape}"
    );
    assert_eq!(
        gauge(&scrape, "gateway_spool_files"),
        0.0,
        "spooling is off"
    );
    // Given back once the body has waited upstream.timeout for room.
    assert!(
        eventually(Duration::from_secs(5), || async {
            let s = app.metrics().await;
            gauge(&s, "gateway_upstream_slots_in_use") == 0.0
                && gauge(&s, "gateway_response_buffer_bytes") == 0.0
        })
        .await,
        "{}",
        app.metrics().await
    );
    drop(s);
    app.stop().await;
}

/// The same 256 never-reading clients against the gateway binary as a child
/// process, so its resident memory is measured alone (in-process, the
/// sandbox and the clients count too). Authentication is off here, so every
/// client is one peer address: one share, which this test sets to the whole.
#[tokio::test]
async fn the_gateway_process_alone_stays_within_its_bounds() {
    let _alone = memory_measurement().await;
    let spool_dir = tempfile::tempdir().unwrap();
    let spool = spool_dir.path().join("spool");
    std::fs::create_dir(&spool).unwrap();
    let mut gateway = process::GatewayProcess::start(&[
        ("GATEWAY__SERVER__RESPONSE_WRITE_TIMEOUT", "60s".into()),
        ("GATEWAY__UPSTREAM__TIMEOUT", "20s".into()),
        (
            "GATEWAY__UPSTREAM__BUFFERING__SPOOL_DIR",
            spool.display().to_string(),
        ),
        (
            "GATEWAY__UPSTREAM__BUFFERING__MEMORY_PER_RESPONSE",
            MEMORY_PER_RESPONSE.to_string(),
        ),
        ("GATEWAY__UPSTREAM__PER_CLIENT__SLOT_SHARE", "1.0".into()),
        ("GATEWAY__UPSTREAM__PER_CLIENT__BUFFER_SHARE", "1.0".into()),
    ])
    .await;
    let pid = gateway.pid();
    let addr = gateway.addr;
    let scrape = || gateway.scrape();
    let rss_before = rss_of(&pid);
    let mut held = Vec::with_capacity(CLIENTS);
    for n in 0..CLIENTS {
        let mut s = h2::connect(addr).await;
        let path = format!("/api/v1/payin/memo/child-{n}?size={PDF_BYTES}");
        s.write_all(&h2::get_headers(1, &path, &[])).await.unwrap();
        held.push(s);
    }
    let state = gateway.sandbox.state();
    let peak = std::cell::Cell::new((0u64, 0u64));
    let watch = || {
        let (r, d) = peak.get();
        peak.set((r.max(rss_of(&pid)), d.max(open_files_of(&pid, &spool).1)));
    };
    assert!(
        eventually(Duration::from_secs(60), || async {
            watch();
            let s = scrape().await;
            state.request_count("payin_memo") >= CLIENTS as u64
                && gauge(&s, "gateway_upstream_slots_in_use") == 0.0
                && gauge(&s, "gateway_spool_files") >= 1.0
        })
        .await,
        "{}",
        scrape().await
    );
    watch();
    let s = scrape().await;
    let (rss_peak, disk_peak) = peak.get();
    let buffered = gauge(&s, "gateway_response_buffer_bytes");
    let spool_bytes = gauge(&s, "gateway_spool_bytes");
    println!(
        "slow-reader (gateway process alone): {CLIENTS} h2c clients x {PDF_BYTES} B PDFs; \
         RSS {} MiB -> peak {} MiB (+{} MiB); buffered {} KiB; spool gauge {} KiB; \
         on disk (fstat blocks) peak {} KiB; listed in the spool dir: {}",
        rss_before >> 20,
        rss_peak >> 20,
        rss_peak.saturating_sub(rss_before) >> 20,
        buffered as u64 >> 10,
        spool_bytes as u64 >> 10,
        disk_peak >> 10,
        std::fs::read_dir(&spool).unwrap().count(),
    );
    assert_eq!(std::fs::read_dir(&spool).unwrap().count(), 0);
    assert!(disk_peak <= SPOOL_TOTAL);
    // Bodies: 256 × 64 KiB at most in memory; connections: hyper's buffers.
    let grown = rss_peak.saturating_sub(rss_before);
    assert!(grown < 96 * 1024 * 1024, "RSS grew by {} MiB", grown >> 20);
    drop(held);
    assert!(
        eventually(Duration::from_secs(10), || async {
            let s = scrape().await;
            gauge(&s, "gateway_spool_files") == 0.0 && gauge(&s, "gateway_spool_bytes") == 0.0
        })
        .await
    );
    assert_eq!(open_files_of(&pid, &spool), (0, 0));
    // SIGKILL: whatever it still held, nothing is left behind.
    gateway.kill();
    assert_eq!(std::fs::read_dir(&spool).unwrap().count(), 0);
}

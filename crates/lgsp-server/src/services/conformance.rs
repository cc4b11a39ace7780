//! The conformance check's IO (Q7.2, Q8.3, Q21.3): real requests to the provider system, with
//! short timeouts, no redirects followed and bounded bodies. What the answers mean is decided
//! in `lgsp_core::conformance`.

use std::time::{Duration, Instant};

use lgsp_core::conformance::{judge_answer, judge_latency, Check, CheckResult};
use lgsp_core::HttpUrl;
use lgsp_store::{Service, System};
use reqwest::header::{ACCEPT, CONTENT_TYPE};

/// At most this much of an answer is read.
const MAX_BODY_BYTES: usize = 1024 * 1024;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
const TIMEOUT: Duration = Duration::from_secs(5);

/// The results of one check, in the order of [`Check::ALL`], and the probe's latency.
pub struct Outcome {
    pub results: Vec<CheckResult>,
    pub latency_ms: Option<i64>,
}

fn client() -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        // A redirect could lead anywhere: the check stays on the registered system.
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(TIMEOUT)
        .user_agent(concat!("lgsp-conformance/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// Why a request failed, in words for the provider (no internals).
fn failure(error: &reqwest::Error) -> &'static str {
    if error.is_timeout() {
        "quá thời gian chờ"
    } else if error.is_connect() {
        "không kết nối được"
    } else {
        "lỗi khi gửi hoặc nhận dữ liệu"
    }
}

/// Checks `service` of `system`.
pub async fn run(service: &Service, system: &System) -> Outcome {
    let mut results = Vec::with_capacity(Check::ALL.len());
    let client = match client() {
        Ok(client) => client,
        Err(error) => {
            tracing::error!(error = ?error, "cannot build the conformance client");
            let results = Check::ALL
                .iter()
                .map(|c| CheckResult::fail(*c, "Nền tảng không tạo được kết nối kiểm tra"))
                .collect();
            return Outcome {
                results,
                latency_ms: None,
            };
        }
    };

    results.push(if service.upstream_url.origin().scheme == "https" {
        CheckResult::pass(Check::Tls, "Dịch vụ dùng HTTPS")
    } else {
        CheckResult::fail(
            Check::Tls,
            "Dịch vụ dùng http://, dữ liệu truyền đi không được mã hóa",
        )
    });
    results.push(health(&client, system).await);

    let probe = service.openapi.probe_paths().into_iter().next();
    results.push(match &probe {
        Some(path) => CheckResult::pass(
            Check::Openapi,
            format!(
                "OpenAPI {}, kiểm tra bằng GET {path}",
                service.openapi.version()
            ),
        ),
        None => CheckResult::fail(
            Check::Openapi,
            "Tài liệu không có đường dẫn GET nào không cần tham số để kiểm tra",
        ),
    });

    let mut latency_ms = None;
    let probed = match (service.upstream(), &probe) {
        (Err(error), _) => Err(format!(
            "Địa chỉ dịch vụ không thuộc hệ thống đã đăng ký ({error})"
        )),
        (Ok(_), None) => Err("Không có đường dẫn để kiểm tra".to_owned()),
        (Ok(upstream), Some(path)) => {
            let url = format!("{}{path}", upstream.as_str().trim_end_matches('/'));
            let started = Instant::now();
            match fetch(&client, &url).await {
                Ok((status, content_type, body)) => {
                    let elapsed = started.elapsed().as_millis() as u64;
                    latency_ms = Some(elapsed as i64);
                    Ok((status, content_type, body, elapsed))
                }
                Err(why) => Err(format!("Không gọi được GET {path}: {why}")),
            }
        }
    };
    match probed {
        Ok((status, content_type, body, elapsed)) => {
            let too_large = body.len() > MAX_BODY_BYTES;
            if too_large {
                for check in [Check::Json, Check::Utf8] {
                    results.push(CheckResult::fail(
                        check,
                        "Nội dung trả về lớn hơn 1 MiB, không kiểm tra được",
                    ));
                }
            } else {
                results.extend(judge_answer(status, content_type.as_deref(), &body));
            }
            results.push(judge_latency(elapsed));
        }
        Err(why) => {
            for check in [Check::Json, Check::Utf8, Check::Latency] {
                results.push(CheckResult::fail(check, why.clone()));
            }
        }
    }
    Outcome {
        results,
        latency_ms,
    }
}

/// The system's health URL answers 2xx; it must be on the system's own origin.
async fn health(client: &reqwest::Client, system: &System) -> CheckResult {
    let Some(url) = &system.health_url else {
        return CheckResult::fail(
            Check::Health,
            "Hệ thống chưa khai báo địa chỉ kiểm tra tình trạng hoạt động",
        );
    };
    if url.origin() != system.base_url.origin() {
        return CheckResult::fail(
            Check::Health,
            "Địa chỉ kiểm tra tình trạng không thuộc máy chủ của hệ thống",
        );
    }
    match client.get(url.as_str()).send().await {
        Ok(response) if response.status().is_success() => CheckResult::pass(
            Check::Health,
            format!("{} trả lời {}", url, response.status().as_u16()),
        ),
        Ok(response) => CheckResult::fail(
            Check::Health,
            format!(
                "{} trả lời mã {}, không phải 2xx",
                url,
                response.status().as_u16()
            ),
        ),
        Err(error) => CheckResult::fail(Check::Health, format!("{url}: {}", failure(&error))),
    }
}

/// GETs `url` asking for JSON; reads at most one byte more than [`MAX_BODY_BYTES`].
async fn fetch(
    client: &reqwest::Client,
    url: &str,
) -> Result<(u16, Option<String>, Vec<u8>), &'static str> {
    let parsed = HttpUrl::parse(url).map_err(|_| "địa chỉ không hợp lệ")?;
    let mut response = client
        .get(parsed.as_str())
        .header(ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| failure(&e))?;
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| failure(&e))? {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_BODY_BYTES {
            break;
        }
    }
    Ok((status, content_type, body))
}

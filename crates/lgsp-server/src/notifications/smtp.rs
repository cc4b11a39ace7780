//! A small SMTP client (RFC 5321) for handing notices to the province's mail relay: one
//! message per connection, `AUTH PLAIN` when the relay URL carries credentials, UTF-8 subject
//! and body (RFC 2047 encoded-words, base64 body). The relay is expected on a trusted network
//! (a local MTA that does TLS onwards); this client does not speak STARTTLS.

use std::time::Duration;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// Where and how to relay: `smtp://[user:password@]host[:port]` (port 25 by default).
#[derive(Clone)]
pub struct Relay {
    host: String,
    port: u16,
    credentials: Option<(String, String)>,
    timeout: Duration,
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "smtp://{}:{}", self.host, self.port)
    }
}

/// Why a message was not handed over.
#[derive(Debug, thiserror::Error)]
pub enum SmtpError {
    /// The relay could not be reached or the connection broke: try again later.
    #[error("relay unreachable: {0}")]
    Io(#[from] std::io::Error),
    #[error("the relay did not answer within {0:?}")]
    Timeout(Duration),
    /// A 4xx reply: try again later.
    #[error("temporarily refused: {0}")]
    Transient(String),
    /// A 5xx reply (unknown recipient, refused sender…): trying again will not help.
    #[error("refused: {0}")]
    Permanent(String),
}

impl SmtpError {
    pub fn is_permanent(&self) -> bool {
        matches!(self, Self::Permanent(_))
    }
}

/// A notice as an e-mail.
pub struct Message<'a> {
    pub from: &'a str,
    pub from_name: &'a str,
    pub to: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
    pub id: &'a str,
    pub date: DateTime<Utc>,
}

impl Relay {
    pub fn parse(url: &str, timeout: Duration) -> Result<Self, String> {
        let url = reqwest::Url::parse(url).map_err(|e| format!("smtp: {e}"))?;
        if url.scheme() != "smtp" {
            return Err("smtp: the URL must start with smtp://".into());
        }
        let host = url
            .host_str()
            .ok_or("smtp: the URL has no host")?
            .trim_matches(['[', ']'])
            .to_owned();
        let credentials = (!url.username().is_empty()).then(|| {
            let decode =
                |s: &str| lgsp_core::text::percent_decode(s).unwrap_or_else(|| s.to_owned());
            (
                decode(url.username()),
                decode(url.password().unwrap_or_default()),
            )
        });
        Ok(Self {
            host,
            port: url.port().unwrap_or(25),
            credentials,
            timeout,
        })
    }

    /// Hands `message` to the relay.
    pub async fn send(&self, message: &Message<'_>) -> Result<(), SmtpError> {
        tokio::time::timeout(self.timeout, self.transaction(message))
            .await
            .map_err(|_| SmtpError::Timeout(self.timeout))?
    }

    async fn transaction(&self, message: &Message<'_>) -> Result<(), SmtpError> {
        let stream = TcpStream::connect((self.host.as_str(), self.port)).await?;
        let (read, mut write) = stream.into_split();
        let mut read = BufReader::new(read);
        expect(&mut read, 220).await?;
        command(&mut write, &mut read, "EHLO lgsp", 250).await?;
        if let Some((user, password)) = &self.credentials {
            let token = BASE64.encode(format!("\0{user}\0{password}"));
            command(&mut write, &mut read, &format!("AUTH PLAIN {token}"), 235).await?;
        }
        command(
            &mut write,
            &mut read,
            &format!("MAIL FROM:<{}>", message.from),
            250,
        )
        .await?;
        command(
            &mut write,
            &mut read,
            &format!("RCPT TO:<{}>", message.to),
            250,
        )
        .await?;
        command(&mut write, &mut read, "DATA", 354).await?;
        write.write_all(&render(message)).await?;
        write.write_all(b".\r\n").await?;
        expect(&mut read, 250).await?;
        // The message is accepted; a failed goodbye changes nothing.
        let _ = write.write_all(b"QUIT\r\n").await;
        Ok(())
    }
}

async fn command(
    write: &mut tokio::net::tcp::OwnedWriteHalf,
    read: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
    line: &str,
    want: u16,
) -> Result<(), SmtpError> {
    if line.contains(['\r', '\n']) {
        return Err(SmtpError::Permanent("an address holds a line break".into()));
    }
    write.write_all(line.as_bytes()).await?;
    write.write_all(b"\r\n").await?;
    // RCPT may also answer 251 (forwarded).
    match expect(read, want).await {
        Err(SmtpError::Permanent(reply)) if want == 250 && reply.starts_with("251") => Ok(()),
        other => other,
    }
}

/// Reads one reply (its continuation lines too) and checks its code.
async fn expect(
    read: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
    want: u16,
) -> Result<(), SmtpError> {
    let mut reply = String::new();
    loop {
        let mut line = String::new();
        if read.read_line(&mut line).await? == 0 {
            return Err(SmtpError::Io(std::io::ErrorKind::UnexpectedEof.into()));
        }
        let last = line.as_bytes().get(3) != Some(&b'-');
        reply.push_str(line.trim_end());
        if last {
            break;
        }
        reply.push(' ');
    }
    let code: u16 = reply.get(..3).and_then(|c| c.parse().ok()).unwrap_or(0);
    match code {
        c if c == want => Ok(()),
        400..=499 => Err(SmtpError::Transient(reply)),
        _ => Err(SmtpError::Permanent(reply)),
    }
}

/// RFC 2047 encoded-words for a header value that may hold non-ASCII text, each at most 75
/// characters long, split on character boundaries.
fn encode_header(text: &str) -> String {
    if text.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return text.to_owned();
    }
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in text.chars() {
        if chunk.len() + c.len_utf8() > 45 {
            words.push(format!("=?utf-8?b?{}?=", BASE64.encode(&chunk)));
            chunk.clear();
        }
        chunk.push(c);
    }
    if !chunk.is_empty() {
        words.push(format!("=?utf-8?b?{}?=", BASE64.encode(&chunk)));
    }
    words.join("\r\n ")
}

/// The message as sent after `DATA`: headers and a base64 body in lines of 76, which never
/// start with a dot, so no dot-stuffing is needed.
fn render(message: &Message<'_>) -> Vec<u8> {
    let body = BASE64.encode(message.body.replace('\n', "\r\n"));
    let mut out = format!(
        "From: {} <{}>\r\nTo: <{}>\r\nSubject: {}\r\nDate: {}\r\nMessage-ID: <{}>\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Transfer-Encoding: base64\r\nAuto-Submitted: auto-generated\r\n\r\n",
        encode_header(message.from_name),
        message.from,
        message.to,
        encode_header(message.subject),
        message.date.to_rfc2822(),
        message.id,
    );
    for line in body.as_bytes().chunks(76) {
        out.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        out.push_str("\r\n");
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vietnamese_subjects_become_short_encoded_words() {
        let subject = "Yêu cầu chia sẻ dữ liệu số 12 bị từ chối — Sở Tư pháp tỉnh Hà Nam";
        let encoded = encode_header(subject);
        let mut decoded = String::new();
        for word in encoded.split("\r\n ") {
            assert!(word.len() <= 75, "{word}");
            let inner = word
                .strip_prefix("=?utf-8?b?")
                .and_then(|w| w.strip_suffix("?="))
                .unwrap();
            decoded.push_str(&String::from_utf8(BASE64.decode(inner).unwrap()).unwrap());
        }
        assert_eq!(decoded, subject);
        assert_eq!(encode_header("Plain subject"), "Plain subject");
    }

    #[test]
    fn relay_urls_carry_host_port_and_credentials() {
        let relay = Relay::parse(
            "smtp://lgsp%40hanam:p%3Ass@mail.hanam.gov.vn:587",
            Duration::from_secs(5),
        )
        .unwrap();
        assert_eq!(
            (relay.host.as_str(), relay.port),
            ("mail.hanam.gov.vn", 587)
        );
        assert_eq!(
            relay.credentials,
            Some(("lgsp@hanam".to_owned(), "p:ss".to_owned()))
        );
        assert_eq!(format!("{relay:?}"), "smtp://mail.hanam.gov.vn:587");
        assert_eq!(
            Relay::parse("smtp://127.0.0.1", Duration::from_secs(5))
                .unwrap()
                .port,
            25
        );
        assert!(Relay::parse("http://mail.example", Duration::from_secs(5)).is_err());
    }

    #[test]
    fn bodies_are_base64_lines_that_never_start_with_a_dot() {
        let message = Message {
            from: "lgsp@hanam.gov.vn",
            from_name: "Nền tảng LGSP",
            to: "dauMoi@stp.hanam.gov.vn",
            subject: "Thử",
            body: &".\n".repeat(200),
            id: "1@lgsp",
            date: Utc::now(),
        };
        let text = String::from_utf8(render(&message)).unwrap();
        let (_, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(body.lines().all(|l| !l.starts_with('.') && l.len() <= 76));
        let joined: String = body.lines().collect();
        assert_eq!(
            String::from_utf8(BASE64.decode(joined).unwrap()).unwrap(),
            ".\r\n".repeat(200)
        );
    }
}

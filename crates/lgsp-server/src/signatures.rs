//! Signing messages the platform sends (webhook deliveries now, gateway responses later) with
//! RFC 9421 HTTP Message Signatures under the platform's Ed25519 key, and RFC 9530
//! `Content-Digest` for their bodies; and checking such signatures. The signature base is
//! built by `lgsp_core::http_signature`; keys live here.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use lgsp_core::http_signature::{
    signature_base, signature_from_header, signature_header_value, Component, HttpMessage,
    SignatureError, SignatureInput, ED25519, LABEL,
};
use sha2::{Digest, Sha256, Sha512};

use crate::keys::PlatformKey;

/// The `Content-Digest` field value of `body`: its SHA-256 as an RFC 9530 dictionary,
/// `sha-256=:<base64>:`.
pub fn content_digest(body: &[u8]) -> String {
    format!("sha-256=:{}:", STANDARD.encode(Sha256::digest(body)))
}

/// Why a `Content-Digest` does not vouch for a body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DigestError {
    #[error("Content-Digest is malformed")]
    Malformed,
    #[error("Content-Digest has no sha-256 or sha-512 digest")]
    NoKnownAlgorithm,
    #[error("the body does not match its Content-Digest")]
    Mismatch,
}

/// Checks a `Content-Digest` field value against `body`: every `sha-256` and `sha-512` digest
/// in it must match, and there must be at least one (other algorithms are ignored, as RFC 9530
/// allows).
pub fn check_content_digest(field: &str, body: &[u8]) -> Result<(), DigestError> {
    let mut checked = 0;
    for member in field.split(',') {
        let (algorithm, value) = member
            .trim()
            .split_once('=')
            .ok_or(DigestError::Malformed)?;
        let expected: Vec<u8> = match algorithm {
            "sha-256" => Sha256::digest(body).to_vec(),
            "sha-512" => Sha512::digest(body).to_vec(),
            _ => continue,
        };
        let encoded = value
            .strip_prefix(':')
            .and_then(|v| v.strip_suffix(':'))
            .ok_or(DigestError::Malformed)?;
        let given = STANDARD
            .decode(encoded)
            .map_err(|_| DigestError::Malformed)?;
        if given != expected {
            return Err(DigestError::Mismatch);
        }
        checked += 1;
    }
    if checked == 0 {
        return Err(DigestError::NoKnownAlgorithm);
    }
    Ok(())
}

/// The two header fields that carry a signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureFields {
    pub signature_input: String,
    pub signature: String,
}

/// Signs `components` of `message` with `key`, labelled `sig1`, with the parameters
/// `created`, `keyid` (the key's thumbprint) and `alg="ed25519"`. The message must hold every
/// component it covers (fields such as `content-digest` are added to it before signing).
pub fn sign(
    key: &PlatformKey,
    message: &HttpMessage,
    components: Vec<Component>,
    created: i64,
) -> Result<SignatureFields, SignatureError> {
    let input = SignatureInput::new(components, created, key.kid.as_str(), Some(ED25519))?;
    let base = signature_base(message, &input)?;
    let signature = key.sign(base.as_bytes());
    Ok(SignatureFields {
        signature_input: input.header_value(LABEL),
        signature: signature_header_value(LABEL, &signature.to_bytes()),
    })
}

/// Why a signature was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error(transparent)]
    Input(#[from] SignatureError),
    #[error("unknown key `{0}`")]
    UnknownKey(String),
    #[error("unsupported algorithm `{0}`")]
    UnsupportedAlgorithm(String),
    #[error("the signature does not match")]
    Mismatch,
}

/// Checks the signature labelled `label` on `message`, whose `Signature-Input` and
/// `Signature` field values are given, with the Ed25519 key `key_for(keyid)` returns. Returns
/// what the signature covers, so that the caller can require the components it relies on.
pub fn verify(
    message: &HttpMessage,
    signature_input: &str,
    signature: &str,
    label: &str,
    key_for: impl Fn(&str) -> Option<VerifyingKey>,
) -> Result<SignatureInput, VerifyError> {
    let input = SignatureInput::from_header(signature_input, label)?;
    if let Some(alg) = input.alg.as_deref().filter(|alg| *alg != ED25519) {
        return Err(VerifyError::UnsupportedAlgorithm(alg.to_owned()));
    }
    let bytes = signature_from_header(signature, label)?;
    let key = key_for(&input.keyid).ok_or_else(|| VerifyError::UnknownKey(input.keyid.clone()))?;
    let base = signature_base(message, &input)?;
    let signature = Signature::from_slice(&bytes).map_err(|_| VerifyError::Mismatch)?;
    key.verify(base.as_bytes(), &signature)
        .map_err(|_| VerifyError::Mismatch)?;
    Ok(input)
}

/// The Ed25519 public key of an OKP JWK (RFC 8037), e.g. one of `/.well-known/jwks.json`.
pub fn jwk_verifying_key(jwk: &serde_json::Value) -> Option<VerifyingKey> {
    if jwk["kty"] != "OKP" || jwk["crv"] != "Ed25519" {
        return None;
    }
    let x = URL_SAFE_NO_PAD.decode(jwk["x"].as_str()?).ok()?;
    VerifyingKey::from_bytes(&x.try_into().ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;

    /// RFC 9421 Appendix B.1.4, "Example Ed25519 Test Key" (`test-key-ed25519`), retyped from
    /// the RFC: PKCS#8 PEM, whose last 32 bytes are the private key's seed.
    const RFC_9421_TEST_KEY_ED25519: &str =
        "MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF";
    /// Its public key (SubjectPublicKeyInfo PEM; the last 32 bytes are the key).
    const RFC_9421_TEST_PUBLIC_ED25519: &str =
        "MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=";

    fn rfc_key() -> SigningKey {
        let der = STANDARD.decode(RFC_9421_TEST_KEY_ED25519).unwrap();
        SigningKey::from_bytes(&der[der.len() - 32..].try_into().unwrap())
    }

    /// RFC 9421 Appendix B.2 "test-request", the parts Appendix B.2.6 covers.
    fn test_request() -> HttpMessage {
        HttpMessage::request("POST", "https://example.com/foo?param=Value&Pet=dog")
            .with_field("Host", "example.com")
            .with_field("Date", "Tue, 20 Apr 2021 02:07:55 GMT")
            .with_field("Content-Type", "application/json")
            .with_field(
                "Content-Digest",
                "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:",
            )
            .with_field("Content-Length", "18")
    }

    /// RFC 9421 Appendix B.2.6: Ed25519 is deterministic, so signing the appendix's signature
    /// base with its key gives its signature byte for byte, and the signature verifies.
    #[test]
    fn rfc_9421_b_2_6_signature() {
        let key = rfc_key();
        let public = STANDARD.decode(RFC_9421_TEST_PUBLIC_ED25519).unwrap();
        assert_eq!(key.verifying_key().as_bytes(), &public[public.len() - 32..]);
        let input = "sig-b26=(\"date\" \"@method\" \"@path\" \"@authority\" \
                     \"content-type\" \"content-length\");created=1618884473\
                     ;keyid=\"test-key-ed25519\"";
        let signature = "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1\
                         u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:";
        let parsed = SignatureInput::from_header(input, "sig-b26").unwrap();
        let base = signature_base(&test_request(), &parsed).unwrap();
        let ours = ed25519_dalek::Signer::sign(&key, base.as_bytes());
        assert_eq!(
            signature_header_value("sig-b26", &ours.to_bytes()),
            signature
        );
        let public = key.verifying_key();
        let verified = verify(&test_request(), input, signature, "sig-b26", |kid| {
            (kid == "test-key-ed25519").then_some(public)
        })
        .unwrap();
        assert!(verified.covers(&Component::Authority));
        // Any change to a covered component breaks it; an uncovered one does not.
        let changed = test_request().with_field("Content-Length", "19");
        assert_eq!(
            verify(&changed, input, signature, "sig-b26", |_| Some(public)),
            Err(VerifyError::Mismatch)
        );
        let uncovered = HttpMessage::request("POST", "https://example.com/foo?other=1")
            .with_field("Date", "Tue, 20 Apr 2021 02:07:55 GMT")
            .with_field("Content-Type", "application/json")
            .with_field("Content-Length", "18");
        assert!(verify(&uncovered, input, signature, "sig-b26", |_| Some(public)).is_ok());
        assert_eq!(
            verify(&test_request(), input, signature, "sig-b26", |_| None),
            Err(VerifyError::UnknownKey("test-key-ed25519".into()))
        );
    }

    /// RFC 9530 Appendix B.1 (`{"hello": "world"}` digested with SHA-256), and the SHA-512
    /// digest of the same content in RFC 9421's test request.
    #[test]
    fn rfc_9530_content_digest() {
        let body = br#"{"hello": "world"}"#;
        assert_eq!(
            content_digest(body),
            "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:"
        );
        assert_eq!(check_content_digest(&content_digest(body), body), Ok(()));
        let sha512 = "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:";
        assert_eq!(check_content_digest(sha512, body), Ok(()));
        assert_eq!(
            check_content_digest(&format!("md5=:AAAA:, {sha512}"), body),
            Ok(())
        );
        assert_eq!(
            check_content_digest(&content_digest(body), br#"{"hello": "world!"}"#),
            Err(DigestError::Mismatch)
        );
        assert_eq!(
            check_content_digest("md5=:AAAA:", body),
            Err(DigestError::NoKnownAlgorithm)
        );
        assert_eq!(
            check_content_digest("sha-256=X48E9q", body),
            Err(DigestError::Malformed)
        );
    }

    #[test]
    fn platform_signatures_cover_what_they_say_and_verify_by_kid() {
        let dir = std::env::temp_dir().join(format!("lgsp-sign-{}", uuid::Uuid::now_v7()));
        let keys = crate::keys::Keyring::load_or_create(&dir).unwrap();
        let key = keys.active();
        let body = br#"{"changes":[]}"#;
        let message = HttpMessage::request("POST", "https://hook.example.vn/lgsp?x=1")
            .with_field("content-type", "application/json")
            .with_field("content-digest", &content_digest(body));
        let components = vec![
            Component::Method,
            Component::TargetUri,
            Component::field("content-digest").unwrap(),
            Component::field("content-type").unwrap(),
        ];
        let fields = sign(key, &message, components, 1_700_000_000).unwrap();
        assert_eq!(
            fields.signature_input,
            format!(
                "sig1=(\"@method\" \"@target-uri\" \"content-digest\" \"content-type\");\
                 created=1700000000;keyid=\"{}\";alg=\"ed25519\"",
                key.kid
            )
        );
        let jwks = keys.jwks();
        let key_for = |kid: &str| {
            jwks["keys"]
                .as_array()?
                .iter()
                .find(|k| k["kid"] == kid)
                .and_then(jwk_verifying_key)
        };
        let verified = verify(
            &message,
            &fields.signature_input,
            &fields.signature,
            LABEL,
            key_for,
        )
        .unwrap();
        assert!(verified.covers(&Component::field("content-digest").unwrap()));
        let elsewhere = HttpMessage::request("POST", "https://evil.example/lgsp?x=1")
            .with_field("content-type", "application/json")
            .with_field("content-digest", &content_digest(body));
        assert_eq!(
            verify(
                &elsewhere,
                &fields.signature_input,
                &fields.signature,
                LABEL,
                key_for
            ),
            Err(VerifyError::Mismatch)
        );
        let other_alg = fields.signature_input.replace("ed25519", "rsa-pss-sha512");
        assert_eq!(
            verify(&message, &other_alg, &fields.signature, LABEL, key_for),
            Err(VerifyError::UnsupportedAlgorithm("rsa-pss-sha512".into()))
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}

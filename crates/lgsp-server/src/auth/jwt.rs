//! Access tokens for systems: compact JWS (RFC 7515/7519) signed with the platform's Ed25519
//! key (`alg: EdDSA`, RFC 8037).
//!
//! Written here rather than taken from a JWT crate: the platform issues and accepts exactly one
//! algorithm, and the general crates bring RSA and ECDSA stacks we would compile for nothing.
//! The rules that matter are all below: the algorithm is fixed (no `none`, no confusion), the
//! key is chosen by `kid` among the platform's own keys, and `exp`/`nbf`/`aud`/`iss` are checked.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::keys::{Keyring, PlatformKey};

pub const ISSUER: &str = "lgsp";
pub const AUDIENCE: &str = "lgsp-gateway";
/// Clock difference tolerated between nodes, in seconds.
const LEEWAY: i64 = 30;

/// What a system's access token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientClaims {
    pub iss: String,
    /// The client id.
    pub sub: String,
    pub aud: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub jti: String,
    pub scope: String,
    /// Agency code of the client's system.
    pub agency: String,
    /// Code of the client's system.
    pub system: String,
}

#[derive(Serialize, Deserialize)]
struct Header {
    alg: String,
    typ: String,
    kid: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token is not a well-formed JWT")]
    Malformed,
    #[error("the token is not signed with EdDSA by a platform key")]
    BadSignature,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token was issued for someone else")]
    WrongAudience,
}

pub fn issue(key: &PlatformKey, claims: &ClientClaims) -> String {
    let header = Header {
        alg: "EdDSA".into(),
        typ: "JWT".into(),
        kid: key.kid.clone(),
    };
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).expect("header serialises")),
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).expect("claims serialise"))
    );
    let signature = key.sign(signing_input.as_bytes());
    format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(signature.to_bytes())
    )
}

/// Checks a token's signature and claims at time `now` (Unix seconds).
pub fn verify(keyring: &Keyring, token: &str, now: i64) -> Result<ClientClaims, TokenError> {
    let mut parts = token.split('.');
    let (Some(header), Some(claims), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed);
    };
    let decode = |part: &str| {
        URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| TokenError::Malformed)
    };
    let parsed: Header =
        serde_json::from_slice(&decode(header)?).map_err(|_| TokenError::Malformed)?;
    if parsed.alg != "EdDSA" {
        return Err(TokenError::BadSignature);
    }
    let signing_input_len = header.len() + 1 + claims.len();
    if !keyring.verify(
        &parsed.kid,
        &token.as_bytes()[..signing_input_len],
        &decode(signature)?,
    ) {
        return Err(TokenError::BadSignature);
    }
    let claims: ClientClaims =
        serde_json::from_slice(&decode(claims)?).map_err(|_| TokenError::Malformed)?;
    if claims.aud != AUDIENCE || claims.iss != ISSUER {
        return Err(TokenError::WrongAudience);
    }
    check_times(&claims, now)?;
    Ok(claims)
}

fn check_times(claims: &ClientClaims, now: i64) -> Result<(), TokenError> {
    if now >= claims.exp + LEEWAY {
        return Err(TokenError::Expired);
    }
    if now + LEEWAY < claims.nbf {
        return Err(TokenError::NotYetValid);
    }
    Ok(())
}

/// Tokens whose signature and audience were already checked, with their claims. A system sends
/// the same token for the token's whole life, and the Ed25519 check costs more than the rest of
/// an exchange's decision; a token is only ever recognised by its exact bytes, and its times
/// are checked again on every use.
#[derive(Default)]
pub struct VerifiedTokens {
    seen: Mutex<HashMap<Box<str>, ClientClaims>>,
}

/// Tokens remembered; past that the memory starts again empty.
const MAX_REMEMBERED: usize = 10_000;

impl VerifiedTokens {
    /// [`verify`], remembering tokens that pass.
    pub fn verify(
        &self,
        keyring: &Keyring,
        token: &str,
        now: i64,
    ) -> Result<ClientClaims, TokenError> {
        let known = self.lock().get(token).cloned();
        if let Some(claims) = known {
            check_times(&claims, now)?;
            return Ok(claims);
        }
        let claims = verify(keyring, token, now)?;
        let mut seen = self.lock();
        if seen.len() >= MAX_REMEMBERED {
            seen.clear();
        }
        seen.insert(token.into(), claims.clone());
        Ok(claims)
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Box<str>, ClientClaims>> {
        // Every update is one insert or a clear: nothing is left half-written by a panic.
        self.seen
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keyring() -> (Keyring, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("lgsp-jwt-{}", uuid::Uuid::now_v7()));
        (Keyring::load_or_create(&dir).unwrap(), dir)
    }

    fn claims(now: i64) -> ClientClaims {
        ClientClaims {
            iss: ISSUER.into(),
            sub: "stp-ho-tich".into(),
            aud: AUDIENCE.into(),
            iat: now,
            nbf: now,
            exp: now + 3600,
            jti: "j1".into(),
            scope: "gateway".into(),
            agency: "000.00.05.H35".into(),
            system: "ho-tich".into(),
        }
    }

    #[test]
    fn issued_tokens_verify_until_they_expire() {
        let (keys, dir) = keyring();
        let token = issue(keys.active(), &claims(1_000_000));
        assert_eq!(verify(&keys, &token, 1_000_010).unwrap(), claims(1_000_000));
        assert_eq!(
            verify(&keys, &token, 1_000_000 + 3600 + LEEWAY),
            Err(TokenError::Expired)
        );
        assert_eq!(
            verify(&keys, &token, 1_000_000 - 3600),
            Err(TokenError::NotYetValid)
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn remembered_tokens_still_expire_and_forgeries_are_not_recognised() {
        let (keys, dir) = keyring();
        let tokens = VerifiedTokens::default();
        let token = issue(keys.active(), &claims(1_000_000));
        assert_eq!(
            tokens.verify(&keys, &token, 1_000_010).unwrap(),
            claims(1_000_000)
        );
        assert_eq!(
            tokens.verify(&keys, &token, 1_000_020).unwrap(),
            claims(1_000_000)
        );
        assert_eq!(
            tokens.verify(&keys, &token, 1_000_000 + 3600 + LEEWAY),
            Err(TokenError::Expired)
        );
        // Same claims, another signature: not the remembered token, so checked and refused.
        let (signed, _) = token.rsplit_once('.').unwrap();
        let forged = format!("{signed}.{}", URL_SAFE_NO_PAD.encode([0u8; 64]));
        assert_eq!(
            tokens.verify(&keys, &forged, 1_000_010),
            Err(TokenError::BadSignature)
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn tampered_foreign_and_unsigned_tokens_are_refused() {
        let (keys, dir) = keyring();
        let token = issue(keys.active(), &claims(1_000_000));
        let (head, rest) = token.split_once('.').unwrap();
        let (_, signature) = rest.split_once('.').unwrap();
        let mut forged = claims(1_000_000);
        forged.agency = "000.00.20.H35".into();
        let forged_body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).unwrap());
        assert_eq!(
            verify(
                &keys,
                &format!("{head}.{forged_body}.{signature}"),
                1_000_001
            ),
            Err(TokenError::BadSignature)
        );
        let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT","kid":"x"}"#);
        assert_eq!(
            verify(&keys, &format!("{none_header}.{forged_body}."), 1_000_001),
            Err(TokenError::BadSignature)
        );
        let (other, other_dir) = keyring();
        assert_eq!(
            verify(&other, &token, 1_000_001),
            Err(TokenError::BadSignature)
        );
        assert_eq!(verify(&keys, "a.b", 0), Err(TokenError::Malformed));
        assert_eq!(verify(&keys, "a.b.c.d", 0), Err(TokenError::Malformed));
        std::fs::remove_dir_all(dir).unwrap();
        std::fs::remove_dir_all(other_dir).unwrap();
    }
}

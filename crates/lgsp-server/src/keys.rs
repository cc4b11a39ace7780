//! The platform's Ed25519 keys: generated on first start in the data directory (mode 0600),
//! rotated with `lgsp keys rotate`, published at `/.well-known/jwks.json`. The newest key signs;
//! older keys stay published so that what they signed still verifies.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// One signing key and its key id (the RFC 7638 JWK thumbprint of its public key).
pub struct PlatformKey {
    pub kid: String,
    pub created_at: DateTime<Utc>,
    signing: SigningKey,
}

impl PlatformKey {
    fn generate() -> Self {
        let signing = SigningKey::generate(&mut rand::rngs::OsRng);
        Self::from_signing(signing, Utc::now())
    }

    fn from_signing(signing: SigningKey, created_at: DateTime<Utc>) -> Self {
        let kid = thumbprint(&signing.verifying_key());
        Self {
            kid,
            created_at,
            signing,
        }
    }

    pub fn sign(&self, message: &[u8]) -> Signature {
        self.signing.sign(message)
    }

    pub fn verifying_key(&self) -> VerifyingKey {
        self.signing.verifying_key()
    }

    /// This key as a C2SP signed-note signer named `name` (the transparency log's origin).
    pub fn note_signer(&self, name: &str) -> Result<lgsp_tlog::NoteSigner, lgsp_tlog::NoteError> {
        lgsp_tlog::NoteSigner::new(name, self.signing.clone())
    }
}

/// RFC 7638 thumbprint of an OKP key: SHA-256 over the canonical JWK, base64url.
fn thumbprint(key: &VerifyingKey) -> String {
    let x = URL_SAFE_NO_PAD.encode(key.as_bytes());
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

/// All platform keys, oldest first.
pub struct Keyring {
    keys: Vec<PlatformKey>,
}

#[derive(Serialize, Deserialize)]
struct StoredKeys {
    keys: Vec<StoredKey>,
}

#[derive(Serialize, Deserialize)]
struct StoredKey {
    created_at: DateTime<Utc>,
    /// The 32-byte Ed25519 seed, base64url.
    seed: String,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot access the key file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the key file {0} is damaged")]
    Damaged(PathBuf),
}

impl Keyring {
    /// The key file inside a data directory.
    pub fn path(data_dir: &Path) -> PathBuf {
        data_dir.join("keys").join("platform-keys.json")
    }

    /// Loads the keys from the data directory, creating the first one if there is none.
    pub fn load_or_create(data_dir: &Path) -> Result<Self, KeyError> {
        let path = Self::path(data_dir);
        if path.exists() {
            return Self::load(&path);
        }
        let keyring = Self {
            keys: vec![PlatformKey::generate()],
        };
        keyring.save(&path)?;
        Ok(keyring)
    }

    fn load(path: &Path) -> Result<Self, KeyError> {
        let io = |source| KeyError::Io {
            path: path.to_owned(),
            source,
        };
        let text = std::fs::read_to_string(path).map_err(io)?;
        let stored: StoredKeys =
            serde_json::from_str(&text).map_err(|_| KeyError::Damaged(path.to_owned()))?;
        let keys = stored
            .keys
            .into_iter()
            .map(|key| {
                let seed: [u8; 32] = URL_SAFE_NO_PAD
                    .decode(&key.seed)
                    .ok()
                    .and_then(|bytes| bytes.try_into().ok())
                    .ok_or_else(|| KeyError::Damaged(path.to_owned()))?;
                Ok(PlatformKey::from_signing(
                    SigningKey::from_bytes(&seed),
                    key.created_at,
                ))
            })
            .collect::<Result<Vec<_>, KeyError>>()?;
        if keys.is_empty() {
            return Err(KeyError::Damaged(path.to_owned()));
        }
        Ok(Self { keys })
    }

    /// Writes the key file with mode 0600, replacing it atomically.
    fn save(&self, path: &Path) -> Result<(), KeyError> {
        let io = |source| KeyError::Io {
            path: path.to_owned(),
            source,
        };
        let dir = path.parent().expect("key path has a parent");
        std::fs::create_dir_all(dir).map_err(io)?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io)?;
        let stored = StoredKeys {
            keys: self
                .keys
                .iter()
                .map(|key| StoredKey {
                    created_at: key.created_at,
                    seed: URL_SAFE_NO_PAD.encode(key.signing.to_bytes()),
                })
                .collect(),
        };
        let temporary = path.with_extension("json.new");
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&temporary)
            .map_err(io)?;
        file.write_all(&serde_json::to_vec_pretty(&stored).expect("keys serialise"))
            .and_then(|()| file.sync_all())
            .map_err(io)?;
        std::fs::rename(&temporary, path).map_err(io)
    }

    /// Adds a new signing key to the data directory's keyring; older keys stay verifiable.
    pub fn rotate(data_dir: &Path) -> Result<Self, KeyError> {
        let mut keyring = Self::load_or_create(data_dir)?;
        keyring.keys.push(PlatformKey::generate());
        keyring.save(&Self::path(data_dir))?;
        Ok(keyring)
    }

    /// The key that signs from now on: the newest.
    pub fn active(&self) -> &PlatformKey {
        self.keys.last().expect("a keyring is never empty")
    }

    pub fn keys(&self) -> &[PlatformKey] {
        &self.keys
    }

    /// Verifies `signature` over `message` with the key `kid`.
    pub fn verify(&self, kid: &str, message: &[u8], signature: &[u8]) -> bool {
        let Some(key) = self.keys.iter().find(|key| key.kid == kid) else {
            return false;
        };
        let Ok(signature) = Signature::from_slice(signature) else {
            return false;
        };
        key.verifying_key().verify(message, &signature).is_ok()
    }

    /// The public keys as a JWK Set (RFC 7517, OKP keys per RFC 8037).
    pub fn jwks(&self) -> serde_json::Value {
        let keys: Vec<_> = self
            .keys
            .iter()
            .rev()
            .map(|key| {
                serde_json::json!({
                    "kty": "OKP",
                    "crv": "Ed25519",
                    "x": URL_SAFE_NO_PAD.encode(key.verifying_key().as_bytes()),
                    "kid": key.kid,
                    "alg": "EdDSA",
                    "use": "sig",
                })
            })
            .collect();
        serde_json::json!({ "keys": keys })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("lgsp-keys-{name}-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn first_start_creates_a_private_key_file_and_reloads_it() {
        let dir = scratch("create");
        let first = Keyring::load_or_create(&dir).unwrap();
        let mode = std::fs::metadata(Keyring::path(&dir))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let again = Keyring::load_or_create(&dir).unwrap();
        assert_eq!(first.active().kid, again.active().kid);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn rotation_adds_a_key_and_old_signatures_still_verify() {
        let dir = scratch("rotate");
        let before = Keyring::load_or_create(&dir).unwrap();
        let old_kid = before.active().kid.clone();
        let signature = before.active().sign(b"hello");
        let after = Keyring::rotate(&dir).unwrap();
        assert_eq!(after.keys().len(), 2);
        assert_ne!(after.active().kid, old_kid);
        assert!(after.verify(&old_kid, b"hello", &signature.to_bytes()));
        assert!(!after.verify(&old_kid, b"hellO", &signature.to_bytes()));
        assert!(!after.verify(&after.active().kid, b"hello", &signature.to_bytes()));
        let jwks = after.jwks();
        assert_eq!(jwks["keys"].as_array().unwrap().len(), 2);
        assert_eq!(jwks["keys"][0]["kid"], after.active().kid.as_str());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn thumbprint_matches_rfc_8037_appendix_a_3() {
        // RFC 8037 A.3: the thumbprint of the A.2 public key.
        let x = URL_SAFE_NO_PAD
            .decode("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
            .unwrap();
        let key = VerifyingKey::from_bytes(&x.try_into().unwrap()).unwrap();
        assert_eq!(
            thumbprint(&key),
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
    }
}

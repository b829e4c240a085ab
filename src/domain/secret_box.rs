//! Secrets kept at rest: sealed with XChaCha20-Poly1305 under a key derived
//! from the service's secret, bound to what they belong to (associated
//! data), so a sealed value copied to another row does not open.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sha2::{Digest as _, Sha256};

const NONCE_BYTES: usize = 24;

/// Seals and opens secrets; its key never shows in `Debug`.
pub struct SecretBox {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(..)")
    }
}

impl SecretBox {
    /// The box of the service's `secret` (a key of its own for this use).
    pub fn new(secret: &str) -> Self {
        let key = Sha256::new()
            .chain_update(b"newsfeed sealed credentials v1\0")
            .chain_update(secret.as_bytes())
            .finalize();
        Self {
            cipher: XChaCha20Poly1305::new(&key),
        }
    }

    /// `plaintext` sealed for `context`: base64 of a random nonce and the ciphertext.
    pub fn seal(&self, plaintext: &[u8], context: &[u8]) -> String {
        let nonce_bytes: [u8; NONCE_BYTES] = rand::random();
        let sealed = self
            .cipher
            .encrypt(
                &XNonce::from(nonce_bytes),
                Payload {
                    msg: plaintext,
                    aad: context,
                },
            )
            .unwrap_or_default();
        let mut out = nonce_bytes.to_vec();
        out.extend_from_slice(&sealed);
        STANDARD.encode(out)
    }

    /// The plaintext of `sealed`, if it was sealed by this key for `context`.
    pub fn open(&self, sealed: &str, context: &[u8]) -> Option<Vec<u8>> {
        let bytes = STANDARD.decode(sealed).ok()?;
        if bytes.len() <= NONCE_BYTES {
            return None;
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_BYTES);
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().ok()?;
        self.cipher
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad: context,
                },
            )
            .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_only_with_their_key_and_context() {
        let secret_box = SecretBox::new("a long service secret");
        let sealed = secret_box.seal(b"token-123", b"account:1");
        assert!(!sealed.contains("token-123"));
        assert_ne!(sealed, secret_box.seal(b"token-123", b"account:1"));
        assert_eq!(
            secret_box.open(&sealed, b"account:1").as_deref(),
            Some(&b"token-123"[..])
        );
        assert_eq!(secret_box.open(&sealed, b"account:2"), None);
        assert_eq!(SecretBox::new("another").open(&sealed, b"account:1"), None);
        assert_eq!(secret_box.open("not base64!", b"account:1"), None);
        assert_eq!(format!("{secret_box:?}"), "SecretBox(..)");
    }
}

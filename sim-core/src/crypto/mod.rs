//! Cryptography behind one interface: real (RSA-PSS, HMAC, AES key wrap) and symbolic.

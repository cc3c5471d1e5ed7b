//! Simulated PKI: root CA, certificates, chains, OCSP.

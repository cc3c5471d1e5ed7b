//! ROAP/SCE protocol data units (typed structs with XML encode/decode).

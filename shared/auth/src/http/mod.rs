//! The API's HTTP surface, shared by every handler: reading requests (bodies,
//! bearer tokens, the caller's address), the JSON envelope and public
//! documents they answer with, and the one error type with the one place it
//! becomes an HTTP answer.

pub mod error;
pub mod request;
pub mod response;

//! Placeholder while building.
#![allow(missing_docs)]
pub mod error;
pub mod frame;
pub mod jitter;
pub mod resample;
pub mod prompt;
pub mod pacer;
pub mod recorder;
pub mod level;
pub mod dtmf;
pub mod vad;
#[cfg(test)]
mod testutil;
pub use error::*;
pub use frame::*;
pub use jitter::*;
pub use resample::*;
pub use prompt::*;
pub use pacer::*;
pub use recorder::*;
pub use level::*;
pub use dtmf::*;
pub use vad::*;


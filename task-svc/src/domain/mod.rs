//! The task rules as types: a value that exists has passed its rule, so the service never checks twice.

mod description;
mod page;
mod patch;
mod task_id;
mod title;

pub use description::TaskDescription;
pub use page::{Cursor, PageSize, PageToken};
pub use patch::{Proposed, TaskPatch};
pub use task_id::TaskId;
pub use title::TaskTitle;

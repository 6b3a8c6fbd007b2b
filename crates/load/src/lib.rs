//! prodlike load: open-model burst load with honest latency
#![forbid(unsafe_code)]

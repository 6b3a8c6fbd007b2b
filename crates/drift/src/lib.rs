//! prodlike drift: configuration and schema drift with declared intentional differences
#![forbid(unsafe_code)]

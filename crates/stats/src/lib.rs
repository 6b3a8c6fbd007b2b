//! Histograms, quantiles and statistical tests shared by every prodlike command
#![forbid(unsafe_code)]

#![cfg_attr(not(test), no_main)]
common::main!("rlsns", 1, rlsns, args = rlsns::args);

#![cfg_attr(not(test), no_main)]
common::main!("rnsenter", 1, rnsenter, args = rnsenter::args);

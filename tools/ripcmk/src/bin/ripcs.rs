#![cfg_attr(not(test), no_main)]
common::main!("ripcs", 1, ripcmk::show, getopt = ripcmk::show::GETOPT);

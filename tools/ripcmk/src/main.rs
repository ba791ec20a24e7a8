#![cfg_attr(not(test), no_main)]
common::main!("ripcmk", 1, ripcmk::make, getopt = ripcmk::make::GETOPT);

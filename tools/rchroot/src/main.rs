#![cfg_attr(not(test), no_main)]
common::main!("rchroot", 125, rchroot, args = rchroot::getopt_order);

" hptc specs: *.hpt files are filetype hpt (editors/vim/syntax/hpt.vim).
autocmd BufRead,BufNewFile *.hpt setfiletype hpt

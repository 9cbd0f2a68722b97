# doc/local.mk: the manual.  `make doc` runs doxygen on include/forkmp.h,
# include/forkmp_mpi.h and the pages doc/mainpage.md, doc/environment.md, doc/porting.md,
# giving doc/html/index.html and doc/man/man3/*.3 in the build tree.  `make install`
# installs the man pages when they were built; `make clean` removes both.

EXTRA_DIST += doc/mainpage.md doc/environment.md doc/porting.md
# doc/Doxyfile.in is distributed as an AC_CONFIG_FILES input.

FMP_DOC_INPUTS = \
	$(top_srcdir)/doc/mainpage.md \
	$(top_srcdir)/doc/environment.md \
	$(top_srcdir)/doc/porting.md \
	$(top_srcdir)/include/forkmp.h \
	$(top_srcdir)/include/forkmp_mpi.h \
	include/forkmp_version.h

.PHONY: doc fmp-clean-doc fmp-install-man fmp-uninstall-man

if HAVE_DOXYGEN
doc: doc/doxygen.stamp
	@echo "make doc: HTML in doc/html/index.html, man pages in doc/man (man -l doc/man/man3/forkmp.3)"
	@if test -s doc/doxygen-warnings.log; then \
	  echo "make doc: doxygen warned $$(grep -c 'warning:' doc/doxygen-warnings.log) time(s), see doc/doxygen-warnings.log"; \
	fi

# MAN_LINKS also makes a page for every struct member (kind.3, chunk.3): only the pages
# named after forkmp's own symbols are kept; the pages of doc/NAME.md become forkmp-NAME.3.
doc/doxygen.stamp: doc/Doxyfile $(FMP_DOC_INPUTS)
	$(AM_V_GEN)rm -rf doc/html doc/man doc/doxygen-warnings.log && \
	$(MKDIR_P) doc && \
	$(DOXYGEN) doc/Doxyfile && \
	for f in doc/man/man3/*.3; do \
	  b=$${f##*/}; \
	  case "$$b" in \
	  fmp_*|FMP_*|forkmp*) ;; \
	  md_doc_*) n=forkmp-$${b#md_doc_}; \
	    sed "s/$${b%.3}/$${n%.3}/g" "$$f" > "doc/man/man3/$$n" && rm -f "$$f" ;; \
	  *) rm -f "$$f" ;; \
	  esac; \
	done && \
	touch $@
else
doc:
	@echo "make doc: doxygen was not found when ./configure ran, so no manual is built."
	@echo "make doc: install it (apt-get install doxygen, or scripts/setup.sh) and re-run ./configure."
endif

fmp-clean-doc:
	-rm -rf doc/html doc/man doc/doxygen.stamp doc/doxygen-warnings.log

# Installed only when `make doc` built them; uninstall removes what install put there.
fmp-install-man:
	@if test -d doc/man/man3; then \
	  echo " $(MKDIR_P) '$(DESTDIR)$(mandir)/man3'"; \
	  $(MKDIR_P) "$(DESTDIR)$(mandir)/man3" || exit 1; \
	  for f in doc/man/man3/*.3; do \
	    test -f "$$f" || continue; \
	    $(INSTALL_DATA) "$$f" "$(DESTDIR)$(mandir)/man3/" || exit 1; \
	  done; \
	fi

fmp-uninstall-man:
	@if test -d doc/man/man3; then \
	  for f in doc/man/man3/*.3; do \
	    test -f "$$f" || continue; \
	    rm -f "$(DESTDIR)$(mandir)/man3/$${f##*/}"; \
	  done; \
	fi

FMP_CLEAN_LOCAL += fmp-clean-doc
FMP_INSTALL_DATA_LOCAL += fmp-install-man
FMP_UNINSTALL_LOCAL += fmp-uninstall-man

# SPDX-License-Identifier: MIT
# `make install` layout and the Debian package (`make deb`: cpack -G DEB in the build
# tree). Installed under /usr, the programs find their files relative to their own bin/
# (core/config.c kb_install_dir): data in ../share/powertrain-kb, the page in
# ../share/powertrain-kb/web, the PDF helper in ../lib/powertrain-kb. So one build serves
# the build tree, `make install` and the package alike.
include(GNUInstallDirs)

install(TARGETS kb-server kb-indexer RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS kb-pdftext RUNTIME DESTINATION lib/powertrain-kb)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/schemas/ DESTINATION ${CMAKE_INSTALL_DATADIR}/powertrain-kb)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/server/web/ DESTINATION ${CMAKE_INSTALL_DATADIR}/powertrain-kb/web)
install(FILES ${KB_GEN_DIR}/kb-indexer.1.gz ${KB_GEN_DIR}/kb-server.1.gz
        DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${KB_GEN_DIR}/kb.conf.5.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man5)
install(FILES ${CMAKE_SOURCE_DIR}/deploy/kb-server.service
        ${CMAKE_SOURCE_DIR}/deploy/kb-indexer.service ${CMAKE_SOURCE_DIR}/deploy/kb-indexer.timer
        DESTINATION lib/systemd/system)
# several machines (docs/deployment-shards.md): installed, never enabled by postinst
install(FILES ${CMAKE_SOURCE_DIR}/deploy/kb-shard@.service
        ${CMAKE_SOURCE_DIR}/deploy/kb-replicate-server.service
        ${CMAKE_SOURCE_DIR}/deploy/kb-replica@.service
        DESTINATION lib/systemd/system)
install(FILES ${CMAKE_SOURCE_DIR}/deploy/debian/copyright
        DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/powertrain-kb)
# The conffile: an absolute destination, /etc whatever the prefix.
install(FILES ${KB_GEN_DIR}/kb.conf DESTINATION /etc/powertrain-kb)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME powertrain-kb)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "powertrain-kb")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "multilingual search server for a powertrain technology knowledge base")
set(CPACK_PACKAGE_DESCRIPTION
    "kb-indexer reads reports (HTML, XML, Markdown, text, PDF, DOCX, ODT, JSON Lines) in
French, Italian and English into a Xapian index, nightly and incrementally; kb-server
serves a JSON search API and a search page over it. Both run under systemd as the
powertrain-kb user; settings are in /etc/powertrain-kb/kb.conf.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES TRUE)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT) # powertrain-kb_<version>_amd64.deb
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "powertrain-kb maintainers <maintainers@users.noreply.example>")
set(CPACK_DEBIAN_PACKAGE_SECTION web)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://github.com/")
# Depends: computed by dpkg-shlibdeps from the libraries the three programs link
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# xapian-tcpsrv, xapian-replicate(-server), xapian-check (--snapshot) for those units
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "xapian-tools")
# useradd/userdel (passwd) are used by the maintainer scripts: passwd is required in
# every Debian system, so it is not listed.
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_SOURCE_DIR}/deploy/debian/conffiles ${CMAKE_SOURCE_DIR}/deploy/debian/postinst
    ${CMAKE_SOURCE_DIR}/deploy/debian/prerm ${CMAKE_SOURCE_DIR}/deploy/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
include(CPack)

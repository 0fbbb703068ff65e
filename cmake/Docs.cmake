# SPDX-License-Identifier: MIT
# The command-line documentation, generated from its one source (docs/man/*.toml) by
# docs/man/mkdocs.py into ${KB_GEN_DIR}: the man pages, the --help text and version that
# kb-indexer and kb-server compile in, and the package's commented kb.conf. Included
# after the programs' directories, so it can hang the headers on their targets.
find_package(Python3 3.11 REQUIRED COMPONENTS Interpreter) # tomllib
set(KB_GEN_DIR ${CMAKE_BINARY_DIR}/gen)
set(KB_DOCS_SRC ${CMAKE_SOURCE_DIR}/docs/man)
set(KB_DOCS_OUT ${KB_GEN_DIR}/kb-indexer.1 ${KB_GEN_DIR}/kb-server.1 ${KB_GEN_DIR}/kb.conf.5
    ${KB_GEN_DIR}/kb.conf ${KB_GEN_DIR}/kb_indexer_help.h ${KB_GEN_DIR}/kb_server_help.h)
add_custom_command(
  OUTPUT ${KB_DOCS_OUT}
  COMMAND ${Python3_EXECUTABLE} ${KB_DOCS_SRC}/mkdocs.py --out ${KB_GEN_DIR}
          --version ${PROJECT_VERSION}
  # mkdocs.py leaves unchanged files alone; touching them all keeps make from rerunning it
  COMMAND ${CMAKE_COMMAND} -E touch ${KB_DOCS_OUT}
  DEPENDS ${KB_DOCS_SRC}/mkdocs.py ${KB_DOCS_SRC}/kb-indexer.toml
          ${KB_DOCS_SRC}/kb-server.toml ${KB_DOCS_SRC}/kb.conf.toml
  COMMENT "Generating man pages, --help and kb.conf from docs/man"
  VERBATIM)
# Debian installs man pages compressed
set(KB_MAN_GZ)
foreach(page kb-indexer.1 kb-server.1 kb.conf.5)
  add_custom_command(OUTPUT ${KB_GEN_DIR}/${page}.gz
                     COMMAND gzip -9nkf ${KB_GEN_DIR}/${page}
                     DEPENDS ${KB_GEN_DIR}/${page} VERBATIM)
  list(APPEND KB_MAN_GZ ${KB_GEN_DIR}/${page}.gz)
endforeach()
add_custom_target(kb_docs ALL DEPENDS ${KB_DOCS_OUT} ${KB_MAN_GZ})

foreach(prog kb-indexer kb-server)
  target_include_directories(${prog} PRIVATE ${KB_GEN_DIR})
  add_dependencies(${prog} kb_docs)
endforeach()
target_compile_definitions(kb_server_lib PRIVATE KB_VERSION="${PROJECT_VERSION}")


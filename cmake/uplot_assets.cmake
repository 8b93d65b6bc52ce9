# uPlot (npm `uplot`, MIT) for the HTML report's charts: installed with npm
# at configure time into the build tree (never into git) and compiled into
# horde_app as strings (app/uplot_assets.hh), so a report opens offline.
# Without npm (or without the network) the build still works: the strings
# are empty and reports fall back to tables with a note (docs/decisions.md).
option(HORDE_UPLOT "Embed uPlot in HTML reports (npm needed at configure time)" ON)
set(HORDE_UPLOT_VERSION 1.6.32)

set(uplot_prefix ${PROJECT_BINARY_DIR}/uplot)
set(uplot_package ${uplot_prefix}/node_modules/uplot)
set(uplot_version "")
set(uplot_js "")
set(uplot_css "")
set(uplot_license "")

function(horde_uplot_installed_version out)
  set(${out} "" PARENT_SCOPE)
  if(EXISTS ${uplot_package}/package.json)
    file(READ ${uplot_package}/package.json manifest)
    string(JSON version ERROR_VARIABLE ignored GET "${manifest}" version)
    set(${out} "${version}" PARENT_SCOPE)
  endif()
endfunction()

if(HORDE_UPLOT)
  horde_uplot_installed_version(installed)
  if(NOT installed STREQUAL HORDE_UPLOT_VERSION)
    find_program(HORDE_NPM npm)
    if(HORDE_NPM)
      message(STATUS "uPlot: npm install uplot@${HORDE_UPLOT_VERSION} into ${uplot_prefix}")
      execute_process(
        COMMAND ${HORDE_NPM} install --prefix ${uplot_prefix} --no-audit --no-fund --silent
                uplot@${HORDE_UPLOT_VERSION}
        RESULT_VARIABLE npm_status OUTPUT_QUIET ERROR_VARIABLE npm_error TIMEOUT 300)
      if(NOT npm_status EQUAL 0)
        message(STATUS "uPlot: npm install failed (${npm_status}): ${npm_error}")
      endif()
      horde_uplot_installed_version(installed)
    endif()
  endif()
  if(installed STREQUAL HORDE_UPLOT_VERSION)
    file(READ ${uplot_package}/dist/uPlot.iife.min.js uplot_js)
    file(READ ${uplot_package}/dist/uPlot.min.css uplot_css)
    file(READ ${uplot_package}/LICENSE uplot_license)
    set(uplot_version ${HORDE_UPLOT_VERSION})
    # The banner's project link is the file's only URL; kept as plain text so
    # the report references no http(s):// address at all (the offline test).
    string(REPLACE "https://github.com/leeoniya/uPlot" "github.com/leeoniya/uPlot" uplot_js
                   "${uplot_js}")
    foreach(part uplot_js uplot_css uplot_license)
      string(FIND "${${part}}" ")${part}\"" clash)
      string(FIND "${${part}}" "</script" closes)
      if(NOT clash EQUAL -1 OR NOT closes EQUAL -1)
        message(FATAL_ERROR "uPlot: ${part} cannot be embedded as a raw string in a <script>")
      endif()
    endforeach()
    message(STATUS "uPlot: ${uplot_version} embedded in HTML reports")
  else()
    message(STATUS "uPlot: not available (no npm, or npm install failed); "
                   "HTML reports will show tables only")
  endif()
else()
  message(STATUS "uPlot: HORDE_UPLOT=OFF; HTML reports will show tables only")
endif()

configure_file(${PROJECT_SOURCE_DIR}/cmake/uplot_assets.cc.in
               ${PROJECT_BINARY_DIR}/generated/uplot_assets.cc @ONLY)
target_sources(horde_app PRIVATE ${PROJECT_BINARY_DIR}/generated/uplot_assets.cc)

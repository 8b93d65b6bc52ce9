// uPlot (MIT, Leon Sorokin), the HTML report's charts: its minified JS, CSS
// and licence compiled into horde at build time (cmake/uplot_assets.cmake
// fetches it with npm into the build tree). All three are empty when npm was
// unavailable then; the report falls back to tables and says so.
#pragma once

namespace horde::app {

extern const char* const uplot_version;
extern const char* const uplot_js;
extern const char* const uplot_css;
extern const char* const uplot_license;

}  // namespace horde::app

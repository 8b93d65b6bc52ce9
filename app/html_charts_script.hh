// The page script that draws the HTML report's charts with uPlot from the
// JSON the page carries (html_page.cc writes both).
#pragma once

namespace horde::app {

extern const char* const html_charts_script;

}  // namespace horde::app

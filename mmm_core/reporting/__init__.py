"""Executive reports of fitted media mix models: JSON headline, CSV detail, text and HTML.

>>> from mmm_core.reporting import ExecutiveReporting
>>> ExecutiveReporting().generate_mmm_report(results)  # doctest: +SKIP
{'executive_summary_json': '...json', 'detailed_csv': '...csv', 'executive_text': '...txt',
 'html': '...html'}

matplotlib (the ``report`` extra) is needed for the HTML figures only, and imported when a
report is made, not with this package.
"""

from mmm_core.reporting.executive_reporting import REPORT_FILES, ExecutiveReporting, render_report
from mmm_core.reporting.figures import FIGURES, OPTIMIZATION_FIGURES
from mmm_core.reporting.summary import SCHEMA_VERSION

__all__ = [
    "FIGURES",
    "OPTIMIZATION_FIGURES",
    "REPORT_FILES",
    "SCHEMA_VERSION",
    "ExecutiveReporting",
    "render_report",
]

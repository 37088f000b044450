"""Files and text out: result folders, summaries, explanations, reports, comparisons."""

"""The standard kernel conformance suite (jupyter_kernel_test) for provkernel."""

from __future__ import annotations

import unittest

import jupyter_kernel_test

from provkernel.crashes.render import MIME_TYPE


class ProvKernelConformance(jupyter_kernel_test.KernelTests):
    kernel_name = "provkernel"
    language_name = "python"
    file_extension = ".py"
    code_hello_world = "print('hello, world')"
    code_stderr = "import sys; print('test', file=sys.stderr)"
    completion_samples = ({"text": "zi", "matches": {"zip"}},)
    complete_code_samples = ("1", "print('hello, world')", "def f(x):\n  return x*2\n\n\n")
    incomplete_code_samples = ("print('''hello", "def f(x):\n  x*2")
    invalid_code_samples = ("import = 7q",)
    code_page_something = "zip?"
    code_inspect_sample = "zip"
    code_generate_error = "raise ValueError('boom')"
    code_execute_result = (
        {"code": "1+2+3", "result": "6"},
        {"code": "[n*n for n in range(1, 4)]", "result": "[1, 4, 9]"},
    )
    code_display_data = (
        {
            "code": "from IPython.display import HTML, display; display(HTML('<b>test</b>'))",
            "mime": "text/html",
        },
        {"code": "%prov status", "mime": "text/html"},
        {"code": "%prov status", "mime": "application/vnd.provkernel.status+json"},
    )
    code_history_pattern = "1?2*"
    supported_history_operations = ("tail", "search")
    code_clear_output = "from IPython.display import clear_output; clear_output()"

    def test_error(self) -> None:
        """Exactly one ``error`` message, as the suite requires; the prov kernel then adds, by design, one
        display of its crash diagnosis (issue 4), which the stock suite would count as a second output.
        """
        self.flush_channels()
        reply, output_msgs = self.execute_helper(self.code_generate_error)
        self.assertEqual(reply["content"]["status"], "error")
        self.assertEqual([m["msg_type"] for m in output_msgs], ["error", "display_data"])
        self.assertEqual(output_msgs[0]["content"]["ename"], "ValueError")
        self.assertIn(MIME_TYPE, output_msgs[1]["content"]["data"])


if __name__ == "__main__":
    unittest.main()

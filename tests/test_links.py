"""No internal link or anchor of either built edition leads nowhere."""

import check_links


def test_the_instructor_edition_has_no_broken_internal_link(built):
    result, html_dir = built
    assert result.returncode == 0
    assert check_links.broken_links(html_dir) == []


def test_the_student_edition_has_no_broken_internal_link(built_student):
    result, html_dir = built_student
    assert result.returncode == 0
    assert check_links.broken_links(html_dir) == []


def test_a_dead_link_a_missing_anchor_and_a_missing_image_are_found(tmp_path):
    (tmp_path / "book").mkdir()
    (tmp_path / "index.html").write_text(
        '<a href="book/b.html#here">ok</a>'
        ' <a href="book/b.html#gone">anchor</a>'
        ' <a href="book/c.html">file</a> <img src="_images/missing.png">'
        ' <a href="https://example.org/">elsewhere</a> <a href="#top">self</a>'
        ' <p id="top"></p>'
    )
    (tmp_path / "book" / "b.html").write_text(
        '<h1 id="here">B</h1><a href="../">up</a>'
    )
    problems = check_links.broken_links(tmp_path)
    assert sorted(problems) == [
        ("index.html", "_images/missing.png", "no such file"),
        ("index.html", "book/b.html#gone", "no such anchor"),
        ("index.html", "book/c.html", "no such file"),
    ]

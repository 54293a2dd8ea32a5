"""Words of the domain that several packages speak and none of them may own.

``hal`` and ``storage`` import nothing else of Jemput, and ``hw_sim`` may not import
``storage``, so a type they share lives here, in a package that itself imports nothing of
ours: the finger positions of ISO/IEC 19794-4 (`vocabulary.fingers`), a person's sex and an
officer's role (`vocabulary.people`), why a person records (`vocabulary.purpose`), and the
language people read, with numbers and times written their way (`vocabulary.language`).
"""

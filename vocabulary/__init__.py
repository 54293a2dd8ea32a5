"""Words of the domain that both ``hal`` and ``storage`` speak and neither may own.

``hal`` and ``storage`` import nothing else of Jemput, so a type they share (the finger
positions of ISO/IEC 19794-4) lives here, in a package that itself imports nothing of ours.
"""

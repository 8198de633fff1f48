"""Weight initialisers (PyTorch's ``nn.init``, plus LSUV). Being written: see issue #3."""

from vret.cli import main

raise SystemExit(main())

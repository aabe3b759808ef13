from exposure.cli import main

raise SystemExit(main())

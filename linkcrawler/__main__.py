from linkcrawler.cli import main

raise SystemExit(main())

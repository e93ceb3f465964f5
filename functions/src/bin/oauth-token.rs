auth::lambda_main!();

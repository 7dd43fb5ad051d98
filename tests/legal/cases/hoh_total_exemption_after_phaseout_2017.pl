% Text
% Omar, born April 11th, 1970, has never married. His daughter Lena was born on September 30th,
% 2005, and has lived with him in his house ever since; Omar pays all its costs ($21000 in 2017).
% Omar's salary for 2017 was $291000; he does not itemize.
% By hand: two exemptions (§151(b) and (c)), each $2,000 reduced by 14% (§151(d)(3)): $3,440, not
% the $4,000 before the phase-out.

% Question
% Omar's total exemption for 2017 under section 151(a) is equal to $4000. Contradiction

% Facts
:- [statutes/prolog/init].
birth_(omar_born).
agent_(omar_born,omar).
start_(omar_born,"1970-04-11").
daughter_(lena_is_omars_daughter).
agent_(lena_is_omars_daughter,lena).
patient_(lena_is_omars_daughter,omar).
start_(lena_is_omars_daughter,"2005-09-30").
residence_(omar_lives_home).
agent_(omar_lives_home,omar).
patient_(omar_lives_home,omars_house).
start_(omar_lives_home,"2005-01-01").
residence_(lena_lives_home).
agent_(lena_lives_home,lena).
patient_(lena_lives_home,omars_house).
start_(lena_lives_home,"2005-09-30").
payment_(omar_pays_upkeep_2017).
agent_(omar_pays_upkeep_2017,omar).
purpose_(omar_pays_upkeep_2017,omars_house).
amount_(omar_pays_upkeep_2017,21000).
start_(omar_pays_upkeep_2017,"2017-12-01").
income_(omar_salary_2017).
agent_(omar_salary_2017,omar).
amount_(omar_salary_2017,291000).
start_(omar_salary_2017,"2017-12-31").

% Test
:- \+ s151_a(omar,4000,2017).
:- halt.

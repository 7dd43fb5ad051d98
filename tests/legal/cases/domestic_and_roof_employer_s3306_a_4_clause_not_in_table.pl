% Text
% Zoe has never married. Ann did domestic service in Zoe's private home from January 9th to
% December 18th, 2017; Zoe paid her $2000 in cash on December 18th, 2017. On July 1st, 2017 Bo
% repaired Zoe's roof and Zoe paid him $1600 in cash that day. Zoe employed nobody in 2016.
% By hand: Zoe is an employer for domestic service (§3306(a)(3): $1,000 or more in cash). Leaving
% out the domestic service, she paid $1,600 of wages for the roof work in 2017, $1,500 or more:
% she is an employer under §3306(a)(1)(A) as well, so the special rule of §3306(a)(4) does not
% reach her ("unless such person is treated as an employer under paragraph (1)").

% Question
% Section 3306(a)(4) applies to Zoe for 2017. Contradiction

% Facts
:- [statutes/prolog/init].
service_(ann_cleans).
agent_(ann_cleans,ann).
patient_(ann_cleans,zoe).
purpose_(ann_cleans,"domestic service").
location_(ann_cleans,"private home").
start_(ann_cleans,"2017-01-09").
end_(ann_cleans,"2017-12-18").
payment_(zoe_pays_ann).
agent_(zoe_pays_ann,zoe).
patient_(zoe_pays_ann,ann).
purpose_(zoe_pays_ann,ann_cleans).
means_(zoe_pays_ann,"cash").
amount_(zoe_pays_ann,2000).
start_(zoe_pays_ann,"2017-12-18").
service_(bo_repairs_roof).
agent_(bo_repairs_roof,bo).
patient_(bo_repairs_roof,zoe).
start_(bo_repairs_roof,"2017-07-01").
end_(bo_repairs_roof,"2017-07-01").
payment_(zoe_pays_bo).
agent_(zoe_pays_bo,zoe).
patient_(zoe_pays_bo,bo).
purpose_(zoe_pays_bo,bo_repairs_roof).
means_(zoe_pays_bo,"cash").
amount_(zoe_pays_bo,1600).
start_(zoe_pays_bo,"2017-07-01").
payment_(zoe_paid).
patient_(zoe_paid,zoe).
amount_(zoe_paid,40000).
start_(zoe_paid,"2017-12-31").

% Test
:- \+ s3306_a_4(zoe,2017).
:- halt.
